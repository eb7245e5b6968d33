#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/schema.hpp"
#include "sources/generate/arrivals.hpp"

namespace sluice::sources::generate {

struct GenerateOptions {
  std::optional<uint64_t> count;
  double rate = 0;
  ArrivalKind arrival = ArrivalKind::constant;
  std::vector<std::pair<double, double>> profile;
  uint64_t seed = 1;
  uint64_t keys = 1000;
  uint64_t payload_bytes = 64;
  std::string start_time = "now";
  static const config::Schema<GenerateOptions>& schema();
};

}  // namespace sluice::sources::generate

namespace sluice::config {
template <>
struct EnumNames<sources::generate::ArrivalKind> {
  static constexpr std::pair<sources::generate::ArrivalKind, const char*> values[] = {
      {sources::generate::ArrivalKind::constant, "constant"},
      {sources::generate::ArrivalKind::poisson, "poisson"},
      {sources::generate::ArrivalKind::nhpp, "nhpp"}};
};
}  // namespace sluice::config
