// Saga and feed events as the consumers decode them from a delivery's body: counters'
// ParseCountRequest, dialogs' ParseCountReply (both through saga::ParseBatch, as the batch
// handlers call them) and the backend fan-out's feed::Parse. First byte: which consumer.
// Findings besides the sanitizers': an event that parses but breaks the documented rules (ids
// not UUIDs, no message ids or too many), or one whose re-encoding does not parse the same.
#include <cstdint>

#include "common/ids.hpp"
#include "common/log.hpp"
#include "feed/events.hpp"
#include "fuzz_support.hpp"
#include "saga/consumer.hpp"
#include "saga/events.hpp"

namespace {

using sn::fuzz::Fail;

template <typename Event>
void CheckIds(const Event& event, std::string_view body) {
    if (!sn::ids::IsUuid(event.event_id) || !sn::ids::IsUuid(event.author_id) || !sn::ids::IsUuid(event.recipient_id)) {
        Fail("event with ids that are not UUIDs accepted", body);
    }
    if (event.message_ids.empty() || event.message_ids.size() > sn::saga::kMaxMessagesPerEvent) {
        Fail("event with no or too many message ids accepted", body);
    }
    for (const auto& id : event.message_ids) {
        if (!sn::ids::IsUuid(id)) {
            Fail("message id that is not a UUID accepted", body);
        }
    }
}

template <typename Event>
void Consume(std::string_view body, std::optional<Event> (*parse)(std::string_view)) {
    std::vector<sn::amqp::Delivery> batch(1);
    batch[0].body = std::string(body);
    batch[0].message_id = "fuzz";
    std::vector<sn::amqp::Outcome> outcomes(batch.size(), sn::amqp::Outcome::kAck);
    const auto parsed = sn::saga::ParseBatch<Event>(batch, parse, outcomes);
    if (parsed.size() + (outcomes[0] == sn::amqp::Outcome::kReject ? 1 : 0) != 1) {
        Fail("ParseBatch neither kept nor rejected the delivery", body);
    }
    if (parsed.empty()) {
        return;
    }
    const auto& event = parsed[0].event;
    CheckIds(event, body);
    const auto again = parse(sn::saga::ToJson(event));
    if (!again || sn::saga::ToJson(*again) != sn::saga::ToJson(event)) {
        Fail("event does not survive ToJson and back", body);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    sn::log::SetLevel("error");  // ParseBatch warns of every poison event
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
        case 0:
            Consume<sn::saga::CountRequest>(body, &sn::saga::ParseCountRequest);
            break;
        case 1:
            Consume<sn::saga::CountReply>(body, &sn::saga::ParseCountReply);
            break;
        default:
            if (const auto event = backend::feed::Parse(body)) {
                const auto again = backend::feed::Parse(backend::feed::ToJson(*event));
                if (!again || backend::feed::ToJson(*again) != backend::feed::ToJson(*event)) {
                    Fail("feed event does not survive ToJson and back", body);
                }
            }
            break;
    }
    return 0;
}
