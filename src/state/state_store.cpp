#include "state/state_store.hpp"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

namespace sluice::state {

std::string_view family_name(Family f) {
  switch (f) {
    case Family::checkpoints: return "checkpoints";
    case Family::sink: return "sink";
    case Family::spool: return "spool";
    case Family::meta: return "meta";
  }
  return "?";
}

std::string scoped_key(std::string_view pipeline, std::string_view key) {
  std::string k;
  k.reserve(pipeline.size() + 1 + key.size());
  k.append(pipeline).push_back('\0');
  k.append(key);
  return k;
}

std::string scope_prefix(std::string_view pipeline) { return scoped_key(pipeline, ""); }

struct WriteBatch::Impl {
  rocksdb::WriteBatch batch;
  // Families are resolved to handles only when the batch is written, so a batch can be built without a store.
  struct Op {
    enum Kind { put, remove, remove_range } kind;
    Family family;
    std::string a, b;
  };
  std::vector<Op> ops;
};

WriteBatch::WriteBatch() : impl_(std::make_unique<Impl>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;
void WriteBatch::put(Family f, std::string_view key, std::string_view value) {
  impl_->ops.push_back({Impl::Op::put, f, std::string(key), std::string(value)});
}
void WriteBatch::remove(Family f, std::string_view key) { impl_->ops.push_back({Impl::Op::remove, f, std::string(key), {}}); }
void WriteBatch::remove_range(Family f, std::string_view begin, std::string_view end) {
  impl_->ops.push_back({Impl::Op::remove_range, f, std::string(begin), std::string(end)});
}
size_t WriteBatch::count() const { return impl_->ops.size(); }
void WriteBatch::clear() { impl_->ops.clear(); }

namespace {
constexpr char kImageVersion = 1;

void put_bytes(std::string& out, std::string_view s) {
  uint32_t n = uint32_t(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(s);
}
}  // namespace

// Version, then per operation: kind, family, and two length-prefixed strings (host byte order: an image is read
// back only by the store that wrote it).
std::string WriteBatch::serialize() const {
  std::string out(1, kImageVersion);
  for (const auto& op : impl_->ops) {
    out.push_back(char(op.kind));
    out.push_back(char(op.family));
    put_bytes(out, op.a);
    put_bytes(out, op.b);
  }
  return out;
}

WriteBatch WriteBatch::deserialize(std::string_view image) {
  auto bad = [&](const char* why) { return StateError(std::string("corrupt write batch image in the state store: ") + why); };
  if (image.empty() || image[0] != kImageVersion) throw bad("unknown version");
  size_t at = 1;
  auto take = [&](std::string& s) {
    uint32_t n;
    if (image.size() - at < sizeof n) throw bad("truncated length");
    std::memcpy(&n, image.data() + at, sizeof n);
    at += sizeof n;
    if (image.size() - at < n) throw bad("truncated string");
    s.assign(image.substr(at, n));
    at += n;
  };
  WriteBatch batch;
  while (at < image.size()) {
    if (image.size() - at < 2) throw bad("truncated operation");
    auto kind = uint8_t(image[at]);
    auto family = uint8_t(image[at + 1]);
    at += 2;
    if (kind > Impl::Op::remove_range || family >= std::size(all_families)) throw bad("unknown operation or family");
    Impl::Op op{Impl::Op::Kind(kind), Family(family), {}, {}};
    take(op.a);
    take(op.b);
    batch.impl_->ops.push_back(std::move(op));
  }
  return batch;
}

struct StateStore::Impl {
  int lock_fd = -1;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // index = Family

  ~Impl() {
    for (auto* h : handles)
      if (h && db) db->DestroyColumnFamilyHandle(h);
    db.reset();
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }
  rocksdb::ColumnFamilyHandle* handle(Family f) const { return handles.at(size_t(f)); }
};

static int take_lock(const std::string& dir) {
  std::string path = dir + "/sluiced.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw StateError("cannot open lock file " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, size_t(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd);
    throw StateError("state_dir " + dir + " is in use by another sluiced process (pid " + pid +
                     "); two daemons cannot share one state_dir");
  }
  std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
    ::close(fd);
    throw StateError("cannot write lock file " + path + ": " + std::strerror(errno));
  }
  return fd;
}

std::unique_ptr<StateStore> StateStore::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw StateError("cannot create state_dir " + dir + ": " + ec.message());
  auto impl = std::make_unique<Impl>();
  impl->lock_fd = take_lock(dir);

  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // A small daemon: keep RocksDB's memory and threads modest (idle RSS matters).
  options.max_background_jobs = 2;
  options.write_buffer_size = 8 << 20;
  options.max_write_buffer_number = 2;
  options.keep_log_file_num = 3;
  options.max_manifest_file_size = 16 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = nullptr;
  table.no_block_cache = false;
  rocksdb::ColumnFamilyOptions cf_options(options);
  cf_options.write_buffer_size = 4 << 20;

  const std::string path = dir + "/rocksdb";
  rocksdb::Status s;
  if (!std::filesystem::exists(path + "/CURRENT", ec)) {
    // A new store gets its families in one step: DB::Open's create_missing_column_families makes them one at a
    // time, rewriting and syncing the OPTIONS file for each (half of a first start's 60 ms).
    rocksdb::DB* fresh = nullptr;
    s = rocksdb::DB::Open(options, path, &fresh);
    if (!s.ok()) throw StateError("cannot create state store in " + dir + ": " + s.ToString());
    impl->db.reset(fresh);
    std::vector<std::string> names;
    for (Family f : all_families) names.emplace_back(family_name(f));
    s = fresh->CreateColumnFamilies(cf_options, names, &impl->handles);
    if (!s.ok()) throw StateError("cannot create the column families of the state store in " + dir + ": " + s.ToString());
  } else {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    families.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
    for (Family f : all_families) families.emplace_back(std::string(family_name(f)), cf_options);
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    s = rocksdb::DB::Open(options, path, families, &handles, &raw);
    if (!s.ok()) throw StateError("cannot open state store in " + dir + ": " + s.ToString());
    impl->db.reset(raw);
    raw->DestroyColumnFamilyHandle(handles[0]);  // the default family is unused
    impl->handles.assign(handles.begin() + 1, handles.end());
  }
  std::unique_ptr<StateStore> store(new StateStore(dir, std::move(impl)));
  if (auto saved = store->get(Family::meta, "instance_id")) {
    store->instance_id_ = *saved;
  } else {
    std::random_device entropy;
    char digits[33];
    std::snprintf(digits, sizeof digits, "%08x%08x%08x%08x", entropy(), entropy(), entropy(), entropy());
    std::string id = digits;
    WriteBatch txn;
    txn.put(Family::meta, "instance_id", id);
    store->write(txn, true);
    store->instance_id_ = id;
  }
  return store;
}

StateStore::StateStore(std::string dir, std::unique_ptr<Impl> impl) : dir_(std::move(dir)), impl_(std::move(impl)) {}
StateStore::~StateStore() = default;

std::optional<std::string> StateStore::get(Family f, std::string_view key) const {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->handle(f), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) throw StateError("state store read failed: " + s.ToString());
  return value;
}

void StateStore::scan(Family f, std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& visit,
                      std::string_view start) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->handle(f)));
  std::string_view from = start > prefix ? start : prefix;
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
    auto k = it->key();
    std::string_view key(k.data(), k.size());
    if (key.substr(0, prefix.size()) != prefix) break;
    auto v = it->value();
    if (!visit(key, std::string_view(v.data(), v.size()))) break;
  }
  if (!it->status().ok()) throw StateError("state store scan failed: " + it->status().ToString());
}

void StateStore::write(WriteBatch& batch, bool sync) {
  rocksdb::WriteBatch wb;
  for (const auto& op : batch.impl_->ops) {
    auto* h = impl_->handle(op.family);
    switch (op.kind) {
      case WriteBatch::Impl::Op::put: wb.Put(h, op.a, op.b); break;
      case WriteBatch::Impl::Op::remove: wb.Delete(h, op.a); break;
      case WriteBatch::Impl::Op::remove_range: wb.DeleteRange(h, op.a, op.b); break;
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = impl_->db->Write(wo, &wb);
  if (!s.ok()) throw StateError("state store write failed: " + s.ToString());
}

}  // namespace sluice::state
