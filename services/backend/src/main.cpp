#include "app/runtime.hpp"
#include "handlers/users.hpp"
#include "storage/user_repository.hpp"

int main() {
    return sn::app::Run("backend", SN_MIGRATIONS_DIR, [](sn::app::Runtime& rt) {
        const auto ttl = std::chrono::seconds(rt.env.Int("TOKEN_TTL_SECONDS", 86'400, 1, 31'536'000));
        const auto& signer = rt.Make<sn::auth::TokenSigner>(rt.keys, ttl);
        auto& users = rt.Make<backend::UserRepository>(rt.db);
        backend::AddUserRoutes(rt.router, users, signer);
    });
}
