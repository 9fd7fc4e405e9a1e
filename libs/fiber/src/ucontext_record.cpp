// The sanitizer build (CMakeLists.txt: SN_SANITIZE / SN_FUZZ) switches Boost.Context to its ucontext
// fibers, which tell ASan of every stack switch. Those fibers are header-only except for the
// per-thread "current fiber" record, which lives in Boost.Context's library only when that is built
// for ucontext; Debian's is built for fcontext, so the record is defined here. Nothing in the
// Release build (fcontext) uses this file.
#if defined(BOOST_USE_UCONTEXT)

#include <boost/context/fiber.hpp>

namespace boost::context::detail {

namespace {
thread_local fiber_activation_record* current_record = nullptr;
thread_local std::size_t users = 0;
}  // namespace

// The thread's own context (main or thread entry), made the first time the thread asks for it.
fiber_activation_record_initializer::fiber_activation_record_initializer() noexcept {
    if (users++ == 0) {
        current_record = new fiber_activation_record();
    }
}

fiber_activation_record_initializer::~fiber_activation_record_initializer() {
    if (--users == 0) {
        delete current_record;
        current_record = nullptr;
    }
}

fiber_activation_record*& fiber_activation_record::current() noexcept {
    thread_local static fiber_activation_record_initializer initializer;
    return current_record;
}

}  // namespace boost::context::detail

#endif
