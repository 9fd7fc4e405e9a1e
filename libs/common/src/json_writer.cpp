#include "common/json_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace sn {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

constexpr bool HasZeroByte(std::uint64_t word) { return ((word - kOnes) & ~word & kHighBits) != 0; }

/// Whether any of the eight bytes in `word` needs escaping: a control character (below 0x20),
/// '"' or '\\'. Bytes from 0x80 (UTF-8 beyond ASCII) have their high bit set and never count.
constexpr bool NeedsEscape(std::uint64_t word) {
    return ((word - kOnes * 0x20) & ~word & kHighBits) != 0 || HasZeroByte(word ^ (kOnes * '"')) ||
           HasZeroByte(word ^ (kOnes * '\\'));
}

static_assert(!NeedsEscape(0x2020202020202020ULL) && NeedsEscape(0x2020202020201f20ULL));
static_assert(NeedsEscape(0x2041412241414141ULL) && NeedsEscape(0x5c41414141414141ULL));
static_assert(!NeedsEscape(0xd0afd0afd0afd0afULL));  // "ЯЯЯЯ"

}  // namespace

void JsonWriter::Separate() {
    if (after_value_) {
        out_ += ',';
    }
    after_value_ = true;
}

JsonWriter& JsonWriter::Open(char bracket) {
    Separate();
    out_ += bracket;
    after_value_ = false;
    return *this;
}

JsonWriter& JsonWriter::Close(char bracket) {
    out_ += bracket;
    after_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
    Separate();
    Escaped(key);
    out_ += ':';
    after_value_ = false;
    return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
    Separate();
    Escaped(value);
    return *this;
}

JsonWriter& JsonWriter::Int(std::int64_t value) {
    Separate();
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    out_.append(digits, end);
    return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
    Separate();
    out_ += value ? "true" : "false";
    return *this;
}

void JsonWriter::Escaped(std::string_view text) {
    out_.reserve(out_.size() + text.size() + 2);
    out_ += '"';
    std::size_t plain = 0;  // start of the run of characters copied as they are
    // Eight bytes at a time while none needs escaping (most text), byte by byte through a word
    // that has one.
    for (std::size_t i = 0; i < text.size();) {
        std::uint64_t word = 0;
        if (i + sizeof(word) <= text.size()) {
            std::memcpy(&word, text.data() + i, sizeof(word));
            if (!NeedsEscape(word)) {
                i += sizeof(word);
                continue;
            }
        }
        for (const auto end = std::min(i + sizeof(word), text.size()); i < end; ++i) {
            const auto c = static_cast<unsigned char>(text[i]);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            out_.append(text.data() + plain, i - plain);
            plain = i + 1;
            EscapeByte(c);
        }
    }
    out_.append(text.data() + plain, text.size() - plain);
    out_ += '"';
}

void JsonWriter::EscapeByte(unsigned char c) {
    static constexpr char kHex[] = "0123456789abcdef";
    switch (c) {
        case '"':
            out_ += "\\\"";
            break;
        case '\\':
            out_ += "\\\\";
            break;
        case '\n':
            out_ += "\\n";
            break;
        case '\r':
            out_ += "\\r";
            break;
        case '\t':
            out_ += "\\t";
            break;
        case '\b':
            out_ += "\\b";
            break;
        case '\f':
            out_ += "\\f";
            break;
        default:
            out_ += "\\u00";
            out_ += kHex[c >> 4];
            out_ += kHex[c & 0xF];
    }
}

}  // namespace sn
