#include "app/runtime.hpp"
#include "handlers/gateway.hpp"
#include "handlers/users.hpp"
#include "http/client.hpp"
#include "storage/user_repository.hpp"

int main() {
    return sn::app::Run("backend", SN_MIGRATIONS_DIR, [](sn::app::Runtime& rt) {
        const auto ttl = std::chrono::seconds(rt.env.Int("TOKEN_TTL_SECONDS", 86'400, 1, 31'536'000));
        const auto dialogs_url = rt.env.String("DIALOGS_URL", "http://127.0.0.1:8081");
        const auto counters_url = rt.env.String("COUNTERS_URL", "http://127.0.0.1:8082");

        const auto& signer = rt.Make<sn::auth::TokenSigner>(rt.keys, ttl);
        auto& users = rt.Make<backend::UserRepository>(rt.db);
        auto& dialogs = rt.Make<sn::http::Upstream>(rt.io.get_executor(), dialogs_url);
        auto& counters = rt.Make<sn::http::Upstream>(rt.io.get_executor(), counters_url);
        backend::AddUserRoutes(rt.router, users, signer);
        backend::AddGatewayRoutes(rt.router, users, dialogs, counters);
    });
}
