// JSON request bodies through the validators every handler uses (http::input): ParseObject, then
// each field rule the handlers apply (RequiredString, OptionalString with their sizes, Uuid,
// BirthDate). A rule either returns a value that meets it or throws HttpError 400; anything else
// (another exception, a value outside the rule) is a finding.
#include <cstdint>

#include "common/ids.hpp"
#include "fuzz_support.hpp"
#include "http/input.hpp"

namespace {

namespace input = sn::http::input;
using sn::fuzz::Fail;

template <typename F>
void Expect400OrValue(F f) {
    try {
        f();
    } catch (const sn::http::HttpError& e) {
        if (e.status() != sn::http::Status::bad_request) {
            Fail("validation failed with a status other than 400", e.what());
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    Expect400OrValue([&] {
        const auto obj = input::ParseObject(body);
        for (const auto* field : {"first_name", "second_name", "city", "text", "password", "biography"}) {
            Expect400OrValue([&] {
                const auto value = input::RequiredString(obj, field, 1, 100);
                const auto length = input::Utf8Length(value);
                if (length < 1 || length > 100 || value.find('\0') != std::string::npos) {
                    Fail("RequiredString returned a value outside its rule", value);
                }
            });
            Expect400OrValue([&] {
                if (input::Utf8Length(input::OptionalString(obj, field, 4000, "fallback")) > 4000) {
                    Fail("OptionalString returned a value past its limit", field);
                }
            });
        }
        Expect400OrValue([&] {
            const auto id = input::Uuid(input::RequiredString(obj, "id", 1, 36), "id");
            if (!sn::ids::IsUuid(id)) {
                Fail("Uuid returned something that is not a UUID", id);
            }
        });
        Expect400OrValue([&] {
            const auto date = input::BirthDate(input::RequiredString(obj, "birthdate", 1, 10), "birthdate");
            if (date.size() != 10) {
                Fail("BirthDate returned something that is not YYYY-MM-DD", date);
            }
        });
    });
    return 0;
}
