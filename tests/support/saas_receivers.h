// Loopback models of the SaaS APIs gridprobe alerts (Sentry, Datadog, New
// Relic): each checks what shared/docs/wire-formats.md says the service
// requires (path, method, headers, auth, body schema, encoding, size
// limits) and answers as the service does, rejections included, with its
// status and error body. Plug one into an HttpReceiver with SetHandler.
#ifndef GRIDPROBE_TESTS_SUPPORT_SAAS_RECEIVERS_H_
#define GRIDPROBE_TESTS_SUPPORT_SAAS_RECEIVERS_H_

#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/http_receiver.h"

namespace gridprobe::testing {

// The body as sent, decoded per Content-Encoding (gzip, deflate, identity).
// False (with `error`) on an unknown encoding or a corrupt stream.
bool DecodeBody(const HttpRequest& req, std::string* out, std::string* error);

// What a model accepted and why it refused the rest.
class SaasModel {
 public:
  virtual ~SaasModel() = default;
  virtual HttpReply Handle(const HttpRequest& req) = 0;
  // Accepted payloads: Sentry event items, Datadog events and series
  // bodies, New Relic event and metric arrays (under "body"); each tagged
  // with "_api".
  std::vector<nlohmann::json> Accepted() const;
  std::vector<std::string> Rejections() const;  // "<status> <reason>"

 protected:
  HttpReply Accept(nlohmann::json payload, const std::string& api, HttpReply reply);
  HttpReply Reject(int status, const std::string& reason, HttpReply reply);

 private:
  mutable std::mutex mu_;
  std::vector<nlohmann::json> accepted_;
  std::vector<std::string> rejections_;
};

// Sentry's envelope endpoint (Relay) for one project and public key.
class SentryModel : public SaasModel {
 public:
  SentryModel(std::string project_id, std::string public_key)
      : project_(std::move(project_id)), key_(std::move(public_key)) {}
  HttpReply Handle(const HttpRequest& req) override;

 private:
  std::string project_, key_;
};

// Datadog's /api/v1/events and /api/v2/series for one API key.
class DatadogModel : public SaasModel {
 public:
  explicit DatadogModel(std::string api_key) : key_(std::move(api_key)) {}
  HttpReply Handle(const HttpRequest& req) override;

 private:
  std::string key_;
};

// New Relic's Event API (/v1/accounts/<id>/events) and Metric API
// (/metric/v1) for one account and key (license key as Api-Key; an insert
// key as X-Insert-Key, Event API only).
class NewRelicModel : public SaasModel {
 public:
  NewRelicModel(std::string account_id, std::string key, bool insert_key = false)
      : account_(std::move(account_id)), key_(std::move(key)), insert_(insert_key) {}
  HttpReply Handle(const HttpRequest& req) override;

 private:
  std::string account_, key_;
  bool insert_;
};

}  // namespace gridprobe::testing

#endif  // GRIDPROBE_TESTS_SUPPORT_SAAS_RECEIVERS_H_
