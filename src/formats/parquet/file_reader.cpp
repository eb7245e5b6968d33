#include "formats/parquet/file_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "formats/json_check.hpp"
#include "formats/parquet/column_reader.hpp"

namespace sluice::formats::parquet {

namespace {

constexpr char kMagic[] = "PAR1";
constexpr char kEncryptedMagic[] = "PARE";

// A field renders up to this many rows ahead, or this many bytes (one huge value past it at most).
constexpr size_t kRunRows = 1024;
constexpr size_t kRunBytes = 64 << 10;

// Copies n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), as two words that overlap in the middle.
template <class Word>
inline void copy_two_words(char* to, const char* from, size_t n) {
  Word first, last;
  std::memcpy(&first, from, sizeof(Word));
  std::memcpy(&last, from + n - sizeof(Word), sizeof(Word));
  std::memcpy(to, &first, sizeof(Word));
  std::memcpy(to + n - sizeof(Word), &last, sizeof(Word));
}

struct Bytes16 {
  char bytes[16];
};

// A row's keys and values are mostly a few bytes each: copied inline, without a call to memcpy for each.
inline char* copy_piece(char* to, const char* from, size_t n) {
  if (n > 32) std::memcpy(to, from, n);
  else if (n >= 16) copy_two_words<Bytes16>(to, from, n);
  else if (n >= 8) copy_two_words<uint64_t>(to, from, n);
  else if (n >= 4) copy_two_words<uint32_t>(to, from, n);
  else if (n > 0) {
    to[0] = from[0];
    to[n / 2] = from[n / 2];
    to[n - 1] = from[n - 1];
  }
  return to + n;
}

void read_exactly(int fd, uint64_t offset, size_t size, std::string& into, const std::string& path) {
  into.resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, into.data() + done, size - done, off_t(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
    if (n == 0) throw ParquetError(path + ": the file ends at byte " + std::to_string(offset + done));
    done += size_t(n);
  }
}

}  // namespace

FileReader::FileReader(const std::string& path, const Limits& limits) : path_(path), limits_(limits) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  try {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw std::runtime_error(path + ": cannot stat: " + std::strerror(errno));
    const uint64_t size = uint64_t(st.st_size);
    if (size < 12) fail("too short for a Parquet file (" + std::to_string(size) + " bytes)");
    std::string bytes;
    read_exactly(fd_, 0, 4, bytes, path_);
    if (bytes != kMagic) fail("does not start with PAR1: not a Parquet file");
    read_exactly(fd_, size - 8, 8, bytes, path_);
    if (bytes.compare(4, 4, kEncryptedMagic) == 0) fail("the footer is encrypted, which sluice does not read");
    if (bytes.compare(4, 4, kMagic) != 0) fail("does not end with PAR1: not a Parquet file, or one cut short");
    uint32_t footer_size;
    std::memcpy(&footer_size, bytes.data(), 4);
    if (footer_size > size - 12) fail("its footer length (" + std::to_string(footer_size) + ") is longer than the file");
    if (footer_size > limits_.max_footer_bytes)
      fail("its footer of " + std::to_string(footer_size) + " bytes passes the limit of " + std::to_string(limits_.max_footer_bytes));
    data_end_ = size - 8 - footer_size;
    read_exactly(fd_, data_end_, footer_size, bytes, path_);
    try {
      metadata_ = parse_file_metadata(bytes, limits_);
      schema_ = Schema::from_elements(metadata_.schema, limits_);
    } catch (const ParquetError& e) {
      fail(std::string("footer: ") + e.what());
    }
    if (metadata_.encrypted) fail("its columns are encrypted, which sluice does not read");
    const size_t leaves = schema_.leaves().size();
    for (size_t g = 0; g < metadata_.row_groups.size(); ++g) {
      const RowGroup& rg = metadata_.row_groups[g];
      const std::string where = "row group " + std::to_string(g);
      if (rg.num_rows < 0) fail(where + " has a negative row count");
      if (rg.columns.size() != leaves)
        fail(where + " has " + std::to_string(rg.columns.size()) + " column chunks for " + std::to_string(leaves) + " columns");
      for (size_t c = 0; c < leaves; ++c) {
        const ColumnChunk& chunk = rg.columns[c];
        const std::string column = "column '" + schema_.leaf_name(c) + "', " + where;
        if (chunk.encrypted) fail(column + " is encrypted, which sluice does not read");
        if (chunk.file_path) fail(column + " lives in another file (" + *chunk.file_path + "), which sluice does not read");
        if (!chunk.meta_data) fail(column + " has no metadata");
        if (chunk.meta_data->path != schema_.leaf_path(c)) fail(column + ": the chunk's path does not match the schema");
      }
    }
    // Names and map shapes once, not per row.
    const auto& nodes = schema_.nodes();
    keys_.resize(nodes.size());
    object_maps_.resize(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      append_json_string(keys_[i], nodes[i].name);
      keys_[i] += ':';
      if (nodes[i].kind == SchemaNode::Kind::map && nodes[i].children.size() == 2) {
        const SchemaNode& key = nodes[size_t(nodes[i].children[0])];
        object_maps_[i] = key.kind == SchemaNode::Kind::primitive &&
                          value_format(key, "map key '" + key.name + "'").kind == ValueFormat::Kind::string;
      }
    }
    const auto& fields = schema_.root().children;
    runs_.resize(fields.size());
    row_frame_bytes_ = 2;
    for (size_t f = 0; f < fields.size(); ++f) {
      runs_[f].prefix = (f ? "," : "") + keys_[size_t(fields[f])];
      row_frame_bytes_ += runs_[f].prefix.size();
    }
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

FileReader::~FileReader() {
  columns_.clear();
  if (fd_ >= 0) ::close(fd_);
}

void FileReader::fail(const std::string& what) const { throw ParquetError(path_ + ": " + what); }

void FileReader::open_row_group() {
  const RowGroup& rg = metadata_.row_groups[position_.row_group];
  columns_.clear();
  columns_.reserve(rg.columns.size());
  for (size_t c = 0; c < rg.columns.size(); ++c) {
    const ColumnMetaData& meta = *rg.columns[c].meta_data;
    const std::string where =
        path_ + ": column '" + schema_.leaf_name(c) + "', row group " + std::to_string(position_.row_group);
    columns_.push_back(std::make_unique<ColumnReader>(fd_, column_extent(meta, data_end_, where), meta, schema_.leaf(c),
                                                      limits_, where));
  }
  for (FieldRun& run : runs_) {
    run.drop_values();
    run.rendered = 0;
    run.error = nullptr;
  }
  row_group_open_ = true;
}

void FileReader::refill(size_t field) {
  FieldRun& run = runs_[field];
  run.drop_values();
  if (run.error) std::rethrow_exception(run.error);
  // Every value rendered so far has been handed out, so `rendered` is the row being assembled.
  const uint64_t rows = uint64_t(metadata_.row_groups[position_.row_group].num_rows);
  const size_t want = size_t(std::min<uint64_t>(rows - run.rendered, kRunRows));
  const int32_t child = schema_.root().children[field];
  const SchemaNode& node = schema_.nodes()[size_t(child)];
  try {
    if (node.kind == SchemaNode::Kind::primitive) {
      // Nothing rendered means the column ended early: column() says so.
      if (columns_[size_t(node.leaf)]->render_run(want, run.text, run.ends, kRunBytes) == 0) column(node.leaf);
    } else {
      for (size_t i = 0; i < want && run.text.size() < kRunBytes; ++i) {
        emit(child, run.text);
        // Each of the field's columns must now stand at the start of the next row: levels that disagree between
        // columns would otherwise shift values into the wrong rows without a word.
        for (int32_t leaf = node.first_leaf; leaf < node.first_leaf + node.leaf_count; ++leaf) {
          ColumnReader& c = *columns_[size_t(leaf)];
          if (!c.at_end() && c.rep() != 0) throw ParquetError(c.where() + ": repetition levels disagree with the other columns'");
        }
        run.ends.push_back(run.text.size());
      }
    }
  } catch (...) {
    // The rows rendered before the failure are still handed out; the failure comes at the row it concerns.
    if (run.ends.size() == 1) throw;
    run.text.resize(run.ends.back());
    run.error = std::current_exception();
  }
  run.rendered += run.ends.size() - 1;
}

ColumnReader& FileReader::column(int32_t leaf) {
  ColumnReader& c = *columns_[size_t(leaf)];
  if (c.at_end())
    throw ParquetError(c.where() + ": the column ends before the row group's " +
                       std::to_string(metadata_.row_groups[position_.row_group].num_rows) + " rows");
  return c;
}

void FileReader::skip(const SchemaNode& node) {
  for (int32_t leaf = node.first_leaf; leaf < node.first_leaf + node.leaf_count; ++leaf) column(leaf).advance();
}

void FileReader::emit_leaf(int32_t leaf, std::string& out) {
  ColumnReader& c = column(leaf);
  if (c.has_value()) c.append_value(out);
  else out.append("null");
  c.advance();
}

void FileReader::emit(int32_t index, std::string& out) {
  const SchemaNode& node = schema_.nodes()[size_t(index)];
  switch (node.kind) {
    case SchemaNode::Kind::primitive: emit_leaf(node.leaf, out); return;
    case SchemaNode::Kind::group: {
      if (column(node.first_leaf).def() < node.def_level) {
        out.append("null");
        skip(node);
        return;
      }
      out.push_back('{');
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i) out.push_back(',');
        out.append(keys_[size_t(node.children[i])]);
        emit(node.children[i], out);
      }
      out.push_back('}');
      return;
    }
    case SchemaNode::Kind::list:
    case SchemaNode::Kind::map: {
      ColumnReader& first = column(node.first_leaf);
      const bool object = object_maps_[size_t(index)];
      const int16_t def = first.def();
      if (def < node.def_level) {
        out.append("null");
        skip(node);
        return;
      }
      if (def < node.entry_def_level) {
        out.append(object ? "{}" : "[]");
        skip(node);
        return;
      }
      out.push_back(object ? '{' : '[');
      bool more = false;
      do {
        if (more) out.push_back(',');
        if (node.kind == SchemaNode::Kind::list || node.children.size() == 1) {
          emit(node.children[0], out);  // a list's element, or a key-only map's key
        } else if (object) {
          const SchemaNode& key = schema_.nodes()[size_t(node.children[0])];
          if (!column(key.leaf).has_value()) fail("column '" + schema_.leaf_name(size_t(key.leaf)) + "': a map key is null");
          emit(node.children[0], out);
          out.push_back(':');
          emit(node.children[1], out);
        } else {
          out.append("{\"key\":");
          emit(node.children[0], out);
          out.append(",\"value\":");
          emit(node.children[1], out);
          out.push_back('}');
        }
        more = !first.at_end() && first.rep() == node.entry_rep_level;
      } while (more);
      out.push_back(object ? '}' : ']');
      return;
    }
  }
}

bool FileReader::next(std::string& out) {
  const auto& groups = metadata_.row_groups;
  while (position_.row_group < groups.size() && position_.row >= uint64_t(groups[position_.row_group].num_rows)) {
    if (row_group_open_) {
      for (size_t c = 0; c < columns_.size(); ++c)
        if (!columns_[c]->at_end())
          throw ParquetError(columns_[c]->where() + ": the column holds more than the row group's " +
                             std::to_string(groups[position_.row_group].num_rows) + " rows");
      row_group_open_ = false;
      columns_.clear();
    }
    ++position_.row_group;
    position_.row = 0;
  }
  if (position_.row_group >= groups.size()) return false;
  if (!row_group_open_) open_row_group();
  size_t size = row_frame_bytes_;
  for (size_t f = 0; f < runs_.size(); ++f) {
    FieldRun& run = runs_[f];
    if (run.next + 1 == run.ends.size()) refill(f);
    size += run.ends[run.next + 1] - run.ends[run.next];
  }
  // Every field has its value: the row is copied together in one piece.
  const size_t at = out.size();
  out.resize(at + size);
  char* p = out.data() + at;
  *p++ = '{';
  for (FieldRun& run : runs_) {
    p = copy_piece(p, run.prefix.data(), run.prefix.size());
    const size_t begin = run.ends[run.next], end = run.ends[run.next + 1];
    p = copy_piece(p, run.text.data() + begin, end - begin);
    ++run.next;
  }
  *p = '}';
  ++position_.row;
  return true;
}

void FileReader::seek(RowPosition to) {
  // The end of a row group is the start of the next: no need to decode a whole row group to get there.
  const auto& groups = metadata_.row_groups;
  while (to.row_group < groups.size() && to.row >= uint64_t(groups[to.row_group].num_rows)) to = {to.row_group + 1, 0};
  if (to.row_group != position_.row_group || to.row < position_.row) {
    columns_.clear();
    row_group_open_ = false;
    position_ = {to.row_group, 0};
  }
  std::string scratch;
  while (position_.row_group == to.row_group && position_.row < to.row) {
    scratch.clear();
    if (!next(scratch)) return;
  }
}

}  // namespace sluice::formats::parquet
