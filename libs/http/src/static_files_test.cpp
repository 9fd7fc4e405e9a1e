#include "http/static_files.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <fstream>

namespace sn::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
   protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("sn-static-" + std::to_string(::getpid()));
        fs::remove_all(root_);
        fs::create_directories(root_ / "assets");
        fs::create_directories(root_ / "docs");
        Write(root_ / "index.html", "<!doctype html>app");
        Write(root_ / "assets" / "app-1a2b.js", "console.log(1)");
        Write(root_ / "docs" / "index.html", "docs");
        Write(root_ / ".secret", "no");
        fs::create_symlink("/etc/passwd", root_ / "passwd");
        added_ = AddStaticFiles(router_, root_);
    }
    void TearDown() override { fs::remove_all(root_); }

    static void Write(const fs::path& path, std::string_view text) { std::ofstream(path) << text; }

    Response Get(std::string_view path, Verb verb = Verb::get) {
        const auto match = router_.Find(verb, path);
        if (match.route == nullptr) {
            return Response{Status::not_found, 11};
        }
        Request request{verb, path, 11};
        Context ctx{request, "rid", {}, {}, {}};
        boost::asio::io_context io;
        auto future = boost::asio::co_spawn(io, match.route->handler(ctx), boost::asio::use_future);
        io.run();
        return future.get();
    }

    fs::path root_;
    Router router_;
    std::size_t added_ = 0;
};

TEST_F(StaticFilesTest, ServesFilesWithTypeAndCaching) {
    EXPECT_EQ(added_, 3U);
    const auto asset = Get("/assets/app-1a2b.js");
    EXPECT_EQ(asset.result(), Status::ok);
    EXPECT_EQ(asset.body(), "console.log(1)");
    EXPECT_EQ(asset[beast_http::field::content_type], "text/javascript; charset=utf-8");
    EXPECT_EQ(asset[beast_http::field::cache_control], "public, max-age=31536000, immutable");
    const auto index = Get("/");
    EXPECT_EQ(index.body(), "<!doctype html>app");
    EXPECT_EQ(index[beast_http::field::content_type], "text/html; charset=utf-8");
    EXPECT_EQ(index[beast_http::field::cache_control], "no-cache");
    EXPECT_EQ(Get("/docs").body(), "docs");
    EXPECT_EQ(Get("/docs/").body(), "docs");
    const auto head = Get("/assets/app-1a2b.js", Verb::head);
    EXPECT_EQ(head.result(), Status::ok);
    EXPECT_EQ(head[beast_http::field::content_length], "14");
    EXPECT_TRUE(head.body().empty());
}

TEST_F(StaticFilesTest, NothingOutsideTheListedFiles) {
    for (const auto* path : {"/passwd", "/.secret", "/assets/../index.html", "/../etc/passwd", "/assets/nope.js",
                             "/assets/%2e%2e/index.html", "/index.html/x"}) {
        EXPECT_EQ(Get(path).result(), Status::not_found) << path;
    }
    EXPECT_EQ(AddStaticFiles(router_, root_ / "missing"), 0U);
}

TEST(ContentTypeOf, KnownAndUnknown) {
    EXPECT_EQ(ContentTypeOf("a.css"), "text/css; charset=utf-8");
    EXPECT_EQ(ContentTypeOf("openapi.json"), "application/json");
    EXPECT_EQ(ContentTypeOf("blob.bin"), "application/octet-stream");
    EXPECT_EQ(ContentTypeOf(".js"), "application/octet-stream");
}

}  // namespace
}  // namespace sn::http
