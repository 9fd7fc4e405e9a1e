#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

namespace sn {

/// Writes JSON text straight into a string: for responses of many rows, where building a tree of
/// values first cost a malloc per string and a second pass (docs/performance.md). Commas are
/// placed by the writer; the caller keeps objects and arrays balanced.
///
///     JsonWriter json;
///     json.BeginObject().Key("id").String(id).Key("n").Int(3).EndObject();
class JsonWriter {
   public:
    explicit JsonWriter(std::size_t reserve = 256) { out_.reserve(reserve); }

    JsonWriter& BeginObject() { return Open('{'); }
    JsonWriter& EndObject() { return Close('}'); }
    JsonWriter& BeginArray() { return Open('['); }
    JsonWriter& EndArray() { return Close(']'); }
    JsonWriter& Key(std::string_view key);
    JsonWriter& String(std::string_view value);
    JsonWriter& Int(std::int64_t value);
    JsonWriter& Bool(bool value);
    /// A string value written by `append(out)`, which must not need escaping (a timestamp, a number).
    template <typename Append>
    JsonWriter& StringFrom(Append append) {
        Separate();
        out_ += '"';
        append(out_);
        out_ += '"';
        return *this;
    }

    /// An array of `items`, each written by `write(*this, item)`.
    template <typename Items, typename Write>
    JsonWriter& Array(const Items& items, Write write) {
        BeginArray();
        for (const auto& item : items) {
            write(*this, item);
        }
        return EndArray();
    }

    [[nodiscard]] std::string Take() && { return std::move(out_); }

   private:
    JsonWriter& Open(char bracket);
    JsonWriter& Close(char bracket);
    /// A comma before a value that follows another in its array (or a key after a member).
    void Separate();
    void Escaped(std::string_view text);
    /// The escape of one byte that needs it (a control character, '"' or '\\').
    void EscapeByte(unsigned char c);

    std::string out_;
    bool after_value_ = false;
};

/// The JSON text of an array of `items`, each written by `write(json, item)`.
template <typename Items, typename Write>
[[nodiscard]] std::string JsonArray(const Items& items, Write write) {
    JsonWriter json(64 + std::size(items) * 256);  // room for typical rows without growing
    json.Array(items, write);
    return std::move(json).Take();
}

}  // namespace sn
