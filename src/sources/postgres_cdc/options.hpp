#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config/schema.hpp"

namespace sluice::sources::postgres_cdc {

enum class SnapshotMode { initial, never };

struct CdcOptions {
  std::string dsn;
  std::string slot;
  std::string publication;  // empty: the slot's name
  std::vector<std::string> tables;
  bool create_slot = true;
  SnapshotMode snapshot = SnapshotMode::initial;
  uint64_t snapshot_chunk_rows = 10000;
  config::Duration heartbeat_interval{std::chrono::seconds(10)};
  config::Duration status_interval{std::chrono::seconds(10)};
  config::Size max_slot_lag{0};
  config::Duration connect_timeout{std::chrono::seconds(30)};
  config::Duration max_reconnect_backoff{std::chrono::seconds(30)};
  static const config::Schema<CdcOptions>& schema();

  const std::string& publication_name() const { return publication.empty() ? slot : publication; }
};

// A table as a pipeline names it: `orders`, `sales.orders`, `"Mixed Case".orders`; unquoted parts fold to
// lower case as PostgreSQL folds them.
struct TableName {
  // No default member initializer: g++ 12 fails to compile ("array used as initializer") a coroutine that
  // aggregate-initializes a struct whose string member defaults to a literal.
  std::string schema;
  std::string name;
  std::string qualified() const { return schema + "." + name; }
  auto operator<=>(const TableName&) const = default;
};
std::optional<TableName> parse_table_name(std::string_view text);

}  // namespace sluice::sources::postgres_cdc

namespace sluice::config {
template <>
struct EnumNames<sources::postgres_cdc::SnapshotMode> {
  static constexpr std::pair<sources::postgres_cdc::SnapshotMode, const char*> values[] = {
      {sources::postgres_cdc::SnapshotMode::initial, "initial"}, {sources::postgres_cdc::SnapshotMode::never, "never"}};
};
}  // namespace sluice::config
