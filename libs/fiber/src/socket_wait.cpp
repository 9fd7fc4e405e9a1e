#include "fiber/socket_wait.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace sn::fiber {
namespace {

class BlockingWait final : public SocketWait {
   public:
    bool Wait(int fd, Until until, std::chrono::steady_clock::time_point deadline) override {
        for (;;) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return false;
            }
            pollfd socket{fd, static_cast<short>(until == Until::kReadable ? POLLIN : POLLOUT), 0};
            const int ready = ::poll(&socket, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60'000)));
            if (ready > 0 || (ready < 0 && errno != EINTR)) {
                return true;  // ready, or failed: the library's next call says how
            }
        }
    }
    void Forget(int) noexcept override {}
};

}  // namespace

SocketWait& Blocking() noexcept {
    static BlockingWait wait;  // stateless
    return wait;
}

}  // namespace sn::fiber
