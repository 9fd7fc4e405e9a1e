#include "auth/hash_admission.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sn::auth {
namespace {

TEST(HashAdmission, RefusesPastTheLimitAndAdmitsAgainOnceATicketIsGivenBack) {
    HashAdmission gate(3);
    std::vector<HashAdmission::Ticket> held;
    for (int i = 0; i < 3; ++i) {
        auto ticket = gate.TryEnter();
        ASSERT_TRUE(ticket.has_value()) << i;
        held.push_back(std::move(*ticket));
    }
    EXPECT_EQ(gate.InLine(), 3U);
    EXPECT_FALSE(gate.TryEnter().has_value());
    held.pop_back();
    EXPECT_EQ(gate.InLine(), 2U);
    EXPECT_TRUE(gate.TryEnter().has_value());  // taken and given back at once
    EXPECT_EQ(gate.InLine(), 2U);
}

TEST(HashAdmission, ALimitOfZeroStillAdmitsOne) {
    HashAdmission gate(0);
    const auto first = gate.TryEnter();
    EXPECT_TRUE(first.has_value());
    EXPECT_FALSE(gate.TryEnter().has_value());
}

}  // namespace
}  // namespace sn::auth
