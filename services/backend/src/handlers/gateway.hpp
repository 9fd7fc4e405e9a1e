#pragma once

#include "http/client.hpp"
#include "http/router.hpp"
#include "storage/user_repository.hpp"

namespace backend {

/// The gateway: /dialog/* to the dialogs service and /counters/* to the counters service, so a
/// client needs one base URL. The token is checked here first (and again by the service); a
/// dialog with a user that does not exist is a 404 without a hop.
void AddGatewayRoutes(sn::http::Router& router, UserRepository& users, sn::http::Upstream& dialogs,
                      sn::http::Upstream& counters);

}  // namespace backend
