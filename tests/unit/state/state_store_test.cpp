#include "state/state_store.hpp"

#include <rocksdb/db.h>

#include <catch2/catch.hpp>

#include "support/test_support.hpp"

using namespace sluice;

namespace {

void put_in_every_family(state::StateStore& store, const std::string& value) {
  state::WriteBatch txn;
  for (state::Family f : state::all_families) txn.put(f, "key", std::string(state::family_name(f)) + "=" + value);
  store.write(txn, true);
}

void require_in_every_family(const state::StateStore& store, const std::string& value) {
  for (state::Family f : state::all_families) {
    INFO("family " << state::family_name(f));
    CHECK(store.get(f, "key") == std::string(state::family_name(f)) + "=" + value);
  }
}

}  // namespace

// A new store is made in two steps (the database, then its families all at once); a reopened one is opened with
// its families named. Both must give the same store.
TEST_CASE("state store: what a new store holds in each family is there after a reopen, with the same instance id", "[state]") {
  testing::TempDir dir;
  std::string id;
  {
    auto store = state::StateStore::open(dir.path());
    CHECK(store->instance_id().size() == 32);
    put_in_every_family(*store, "first");
    require_in_every_family(*store, "first");
    id = store->instance_id();
  }
  {
    auto store = state::StateStore::open(dir.path());
    CHECK(store->instance_id() == id);
    require_in_every_family(*store, "first");
    put_in_every_family(*store, "second");
  }
  auto store = state::StateStore::open(dir.path());
  require_in_every_family(*store, "second");
}

// A first start killed after RocksDB made its database and before the families were created leaves a database
// with the default family alone: the next start adds the missing ones.
TEST_CASE("state store: a database left without its families by an interrupted first start gets them on the next", "[state]") {
  testing::TempDir dir;
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(options, dir.path() + "/rocksdb", &raw).ok());
    delete raw;
  }
  auto store = state::StateStore::open(dir.path());
  put_in_every_family(*store, "after");
  store.reset();
  store = state::StateStore::open(dir.path());
  require_in_every_family(*store, "after");
}
