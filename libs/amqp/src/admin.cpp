#include "amqp/admin.hpp"

#include "amqp/connection.hpp"

namespace sn::amqp {

void DeclareTopology(const ConnectionOptions& options, const Topology& topology) {
    detail::Connection connection(options);
    connection.Declare(topology);
}

void DeleteTopology(const ConnectionOptions& options, const Topology& topology) {
    detail::Connection connection(options);
    for (const auto& queue : topology.queues) {
        amqp_queue_delete(connection.Get(), detail::kChannel, detail::Bytes(queue.name), /*if_unused=*/0,
                          /*if_empty=*/0);
        connection.CheckLastReply("queue.delete " + queue.name);
    }
    for (const auto& exchange : topology.exchanges) {
        amqp_exchange_delete(connection.Get(), detail::kChannel, detail::Bytes(exchange.name), /*if_unused=*/0);
        connection.CheckLastReply("exchange.delete " + exchange.name);
    }
}

std::uint32_t CountMessages(const ConnectionOptions& options, std::string_view queue) {
    detail::Connection connection(options);
    const auto* ok = amqp_queue_declare(connection.Get(), detail::kChannel, detail::Bytes(queue), /*passive=*/1,
                                        /*durable=*/0, /*exclusive=*/0, /*auto_delete=*/0, amqp_empty_table);
    connection.CheckLastReply("queue.declare passive " + std::string(queue));
    return ok->message_count;
}

}  // namespace sn::amqp
