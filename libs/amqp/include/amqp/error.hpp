#pragma once

#include <stdexcept>

namespace sn::amqp {

/// A broker, network or protocol failure. The object that threw has dropped its connection and
/// reconnects on its next use.
class AmqpError : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
};

}  // namespace sn::amqp
