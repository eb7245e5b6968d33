#pragma once
// One chunk of a snapshot read while the stream runs, reconciled with the stream by watermarks (DBLog's
// method, as in Debezium's incremental snapshots): a low watermark is written to the WAL, the chunk is
// SELECTed, a high watermark is written. Changes the stream delivers between the two watermarks are newer
// than or as new as the chunk, so the rows they touch leave the chunk; at the high watermark what is left is
// emitted as `r` records, in its place in the stream. Pure: the source feeds it what it reads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sluice::sources::postgres_cdc {

using Row = std::vector<std::optional<std::string>>;

// The transactions still in progress for a snapshot, from pg_current_snapshot()'s text `xmin:xmax:xip,...`,
// as the 32-bit xids pgoutput sends. Throws std::invalid_argument on anything else.
std::unordered_set<uint32_t> snapshot_in_progress(std::string_view snapshot);

class WatermarkChunk {
 public:
  // rows: as SELECTed, in key order; key: the positions of the key columns in a row; limit: the LIMIT asked.
  WatermarkChunk(std::vector<Row> rows, std::vector<size_t> key, uint64_t limit);

  // The key a row or a change has: its key columns' text, joined (PostgreSQL text never holds '\0').
  static std::string join_key(const std::vector<std::string_view>& values);

  // A change of the chunk's table inside the window, to the row with this key (each of an update's old and
  // new key). An update that left a TOASTed column unsent cannot stand in for the row (its consumer may not
  // have the row yet): the chunk then ends before that row, which the next chunk reads again.
  void changed(const std::string& key, bool unchanged_toast);
  // The table was truncated inside the window: no row of the chunk is current.
  void truncated();

  // After the high watermark: the rows to emit, in key order.
  std::vector<const Row*> surviving() const;
  // The key values after which the next chunk starts; nullopt: the chunk made no progress (start where it did).
  std::optional<std::vector<std::string>> last_key() const;
  // Whether the table has no rows after this chunk (it returned fewer than the limit, and none was given back).
  bool table_done() const;

 private:
  std::vector<Row> rows_;
  std::vector<size_t> key_;
  uint64_t limit_;
  std::vector<bool> removed_;
  size_t end_;  // rows at and after end_ were given back to the next chunk
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace sluice::sources::postgres_cdc
