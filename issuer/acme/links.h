#pragma once
// Links makes the absolute URLs of one ACME provisioner's resources
// (RFC 8555 §7.1): https://<host>/acme/<provisioner>/<resource>, where host
// is the Host the client used, so every replica behind one Service name
// hands out the same URLs. Account URLs are also the "kid" of JWS requests.

#include <string>
#include <string_view>

namespace keystep::acme {

class Links {
 public:
  // base is "https://ca.internal:9000/acme/acme" (no trailing slash).
  explicit Links(std::string base) : base_(std::move(base)) {}

  [[nodiscard]] const std::string& base() const { return base_; }
  [[nodiscard]] std::string directory() const { return base_ + "/directory"; }
  [[nodiscard]] std::string new_nonce() const { return base_ + "/new-nonce"; }
  [[nodiscard]] std::string new_account() const { return base_ + "/new-account"; }
  [[nodiscard]] std::string new_order() const { return base_ + "/new-order"; }
  [[nodiscard]] std::string revoke_cert() const { return base_ + "/revoke-cert"; }
  [[nodiscard]] std::string key_change() const { return base_ + "/key-change"; }
  [[nodiscard]] std::string renewal_info() const { return base_ + "/renewal-info"; }
  [[nodiscard]] std::string account(std::string_view id) const { return base_ + "/account/" + std::string(id); }
  [[nodiscard]] std::string orders(std::string_view account_id) const { return account(account_id) + "/orders"; }
  [[nodiscard]] std::string order(std::string_view id) const { return base_ + "/order/" + std::string(id); }
  [[nodiscard]] std::string finalize(std::string_view id) const { return order(id) + "/finalize"; }
  [[nodiscard]] std::string authorization(std::string_view id) const { return base_ + "/authz/" + std::string(id); }
  [[nodiscard]] std::string challenge(std::string_view authz_id, std::string_view id) const {
    return base_ + "/challenge/" + std::string(authz_id) + "/" + std::string(id);
  }
  [[nodiscard]] std::string certificate(std::string_view id) const { return base_ + "/certificate/" + std::string(id); }

  // account_id returns the id of an account URL of this provisioner, or ""
  // when kid is not one.
  [[nodiscard]] std::string account_id(std::string_view kid) const {
    const std::string prefix = base_ + "/account/";
    if (kid.size() <= prefix.size() || kid.substr(0, prefix.size()) != prefix) return "";
    std::string id(kid.substr(prefix.size()));
    return id.find('/') == std::string::npos ? id : "";
  }

 private:
  std::string base_;
};

}  // namespace keystep::acme
