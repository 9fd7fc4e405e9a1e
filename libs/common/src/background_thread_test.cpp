#include "common/background_thread.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace sn {
namespace {

TEST(BackgroundThread, RunsItsBodyUntilStopWhichCutsAPauseShort) {
    std::atomic<int> rounds{0};
    std::atomic<bool> woke_early{false};
    const auto started = std::chrono::steady_clock::now();
    {
        BackgroundThread thread([&](BackgroundThread& self) {
            while (!self.Stopping()) {
                ++rounds;
                if (!self.Pause(std::chrono::hours(1))) {
                    woke_early = true;
                }
            }
        });
        while (rounds == 0) {
            std::this_thread::yield();
        }
        thread.Stop();
        thread.Stop();  // idempotent
        EXPECT_TRUE(woke_early);
    }  // and the destructor after a Stop
    EXPECT_EQ(rounds, 1);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(BackgroundThread, PausesForTheirTimeWhenNotStopped) {
    std::atomic<bool> paused_fully{false};
    std::atomic<bool> done{false};
    BackgroundThread thread([&](BackgroundThread& self) {
        paused_fully = self.Pause(std::chrono::milliseconds(20));
        done = true;
    });
    while (!done) {
        std::this_thread::yield();
    }
    EXPECT_TRUE(paused_fully);
}

}  // namespace
}  // namespace sn
