#include "common/json_writer.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>

namespace sn {
namespace {

TEST(JsonWriter, PlacesCommasInNestedObjectsAndArrays) {
    JsonWriter json;
    json.BeginArray();
    json.BeginObject().Key("a").Int(-1).Key("b").Bool(true).Key("c").BeginArray().EndArray().EndObject();
    json.BeginObject().EndObject();
    json.String("x").Int(0);
    json.BeginObject().Key("t").StringFrom([](std::string& out) { out += "2026"; }).EndObject();
    json.EndArray();
    EXPECT_EQ(std::move(json).Take(), R"([{"a":-1,"b":true,"c":[]},{},"x",0,{"t":"2026"}])");
}

TEST(JsonWriter, EscapesWhatJsonRequiresAndNothingElse) {
    JsonWriter json;
    json.String("q\"b\\n\n\r\t\b\f\x01\x1f ok Привет ✓");
    EXPECT_EQ(std::move(json).Take(), R"("q\"b\\n\n\r\t\b\f\u0001\u001f ok Привет ✓")");
}

TEST(JsonWriter, EveryByteStringReadsBackAsItself) {
    std::mt19937 random(7);
    std::uniform_int_distribution<int> byte(0, 127);  // ASCII incl. every control character
    for (int i = 0; i < 2'000; ++i) {
        std::string text(static_cast<std::size_t>(i % 40), ' ');
        for (auto& c : text) {
            c = static_cast<char>(byte(random));
        }
        JsonWriter json;
        json.BeginObject().Key(text).String(text).EndObject();
        const auto parsed = boost::json::parse(std::move(json).Take()).as_object();
        ASSERT_EQ(parsed.size(), 1U);
        EXPECT_EQ(parsed.begin()->key(), text);
        EXPECT_EQ(parsed.begin()->value().as_string(), text);
    }
}

TEST(JsonWriter, FindsWhatNeedsEscapingAtEveryOffsetAmongWideCharacters) {
    // Text is scanned eight bytes at a time: put each character that needs escaping at every
    // offset of strings of every length up to three words, among two-byte UTF-8 ("Я").
    for (const char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
        for (std::size_t length = 1; length <= 24; ++length) {
            for (std::size_t at = 0; at < length; ++at) {
                std::string text;
                for (std::size_t k = 0; k < length; ++k) {
                    text += k == at ? std::string(1, special) : std::string("Я");
                }
                JsonWriter json;
                json.String(text);
                const auto out = std::move(json).Take();
                // A raw control character, quote or backslash would not parse back as the text.
                ASSERT_EQ(boost::json::parse(out).as_string(), text) << out;
            }
        }
    }
}

}  // namespace
}  // namespace sn
