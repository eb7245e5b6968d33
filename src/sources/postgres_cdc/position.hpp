#pragma once
// Where a postgres_cdc pipeline stands, as committed with its data: the text of the slot's partition in the
// checkpoint, a small JSON object (shown as is in /status):
//   {"lsn":"0/16B3748"}                                    streaming; every transaction that ends at or
//                                                          before lsn has been delivered
//   {"lsn":"0/16B3748","txn":"0/16B4000","done":4096}      4096 changes of the transaction that commits at
//                                                          0/16B4000 were delivered too (it outgrew a batch)
//   {"lsn":...,"snapshot":{"table":"public.orders","after":["41"]}}
//                                                          the initial snapshot is still running: tables
//                                                          before public.orders are done, and its rows up to
//                                                          key (41); "after": null = not started
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sources/postgres_cdc/pgoutput.hpp"

namespace sluice::sources::postgres_cdc {

struct SnapshotProgress {
  std::string table;  // schema.name
  std::optional<std::vector<std::string>> after;  // key values (text) of the last row delivered
  bool operator==(const SnapshotProgress&) const = default;
};

struct CdcPosition {
  Lsn lsn = 0;
  Lsn partial_txn = 0;  // 0: no transaction delivered in part
  uint64_t partial_done = 0;
  std::optional<SnapshotProgress> snapshot;

  std::string format() const;
  // Throws std::invalid_argument naming what is wrong.
  static CdcPosition parse(std::string_view text);
  bool operator==(const CdcPosition&) const = default;
};

}  // namespace sluice::sources::postgres_cdc
