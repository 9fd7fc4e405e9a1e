// A page of 100 messages written as dialogs writes a listing (id, from, to, Russian text, state,
// created_at), 200,000 times: µs per page from the JsonWriter it is compiled with. Not built by
// CMake; the figures of docs/performance.md item 29 came from the old and the new writer:
//
//   git show a91d0a0:libs/common/src/json_writer.cpp > /tmp/json_writer_old.cpp
//   g++ -O3 -std=c++20 -Ilibs/common/include bench/json_page.cpp /tmp/json_writer_old.cpp -o /tmp/json_old
//   g++ -O3 -std=c++20 -Ilibs/common/include bench/json_page.cpp libs/common/src/json_writer.cpp -o /tmp/json_new
//   for i in 1 2 3; do /tmp/json_old; /tmp/json_new; done
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/json_writer.hpp"

int main() {
    const std::vector<std::string> texts = {"Привет, как дела?", "Всё хорошо, спасибо!", "Давай завтра встретимся",
                                            "Ок"};
    const std::string id = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    constexpr int kPages = 200'000;
    std::size_t bytes = 0;
    const auto started = std::chrono::steady_clock::now();
    for (int page = 0; page < kPages; ++page) {
        sn::JsonWriter json;
        json.BeginArray();
        for (std::size_t i = 0; i < 100; ++i) {
            json.BeginObject()
                .Key("id")
                .String(id)
                .Key("from")
                .String(id)
                .Key("to")
                .String(id)
                .Key("text")
                .String(texts[i % texts.size()])
                .Key("state")
                .String("UNREAD")
                .Key("created_at")
                .String("2026-11-29T11:43:01.123456Z")
                .EndObject();
        }
        json.EndArray();
        bytes += std::move(json).Take().size();
    }
    const auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
    std::printf("%.2f us per page of 100 messages (%zu bytes)\n", us / kPages, bytes / kPages);
}
