#include "formats/parquet/column_writer.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <type_traits>

#include "formats/parquet/background_compressor.hpp"
#include "formats/parquet/encoding.hpp"

namespace sluice::formats::parquet {

namespace {

// Pages hold at most this many entries even when their values are tiny (dictionary indices, nulls): readers
// size their work by pages, and a page of millions of entries is a page nobody can skip into.
constexpr size_t kMaxPageEntries = 64 * 1024;
// Longer minimum and maximum byte arrays are left out of the statistics rather than bloat every footer.
constexpr size_t kMaxStatisticBytes = 256;

size_t fixed_width(Type type, int32_t type_length) {
  switch (type) {
    case Type::boolean: return 1;
    case Type::int32:
    case Type::float32: return 4;
    case Type::int64:
    case Type::float64: return 8;
    case Type::int96: return 12;
    case Type::fixed_len_byte_array: return size_t(type_length);
    case Type::byte_array: return 0;
  }
  return 0;
}

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool unsigned_less(std::string_view a, std::string_view b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c < 0 || (c == 0 && a.size() < b.size());
}

// Parquet's type-defined sort order for the types the writer produces.
bool less(Type type, std::string_view a, std::string_view b) {
  switch (type) {
    case Type::boolean: return a[0] < b[0];
    case Type::int32: return load<int32_t>(a.data()) < load<int32_t>(b.data());
    case Type::int64: return load<int64_t>(a.data()) < load<int64_t>(b.data());
    case Type::float32: return load<float>(a.data()) < load<float>(b.data());
    case Type::float64: return load<double>(a.data()) < load<double>(b.data());
    case Type::fixed_len_byte_array:  // decimals: big-endian two's complement
      if (a[0] != b[0]) return int8_t(a[0]) < int8_t(b[0]);
      return std::memcmp(a.data(), b.data(), a.size()) < 0;
    case Type::byte_array: return unsigned_less(a, b);
    case Type::int96: break;
  }
  return false;
}

bool is_nan(Type type, std::string_view v) {
  if (type == Type::float32) return std::isnan(load<float>(v.data()));
  if (type == Type::float64) return std::isnan(load<double>(v.data()));
  return false;
}

}  // namespace

struct ColumnWriter::Impl {
  Type physical;
  size_t width;
  int16_t max_def, max_rep;
  std::vector<std::string> path;
  WriterOptions options;
  Compressor compressor;
  BackgroundCompressor* background;

  // The open page.
  std::vector<uint8_t> def, rep;
  size_t page_entries = 0;
  std::string values;             // PLAIN bytes, when not dictionary-encoding
  std::vector<uint32_t> indices;  // dictionary indices, when dictionary-encoding
  bool dictionary_mode;

  // The dictionary: entries in PLAIN layout (the dictionary page's body as it stands) and an open-addressing
  // table of entry numbers + 1 (0: empty).
  std::string dict_data;
  std::vector<uint32_t> dict_starts;  // where entry i's value bytes start in dict_data (after a length prefix)
  std::vector<uint32_t> dict_sizes;
  // Whether a closed page has used entry i, so its statistics take each entry once (an entry a rolled-back
  // record added may never be used).
  std::vector<uint8_t> dict_observed;
  std::vector<uint32_t> table;
  bool dictionary_used = false;

  // The column chunk so far.
  // Each encoded page (header and body) in a string of its own: one contiguous buffer would double its
  // capacity as it grew, and a row group's pages are most of the writer's memory.
  std::vector<std::string> pages;
  size_t pages_bytes = 0;
  size_t pages_uncompressed = 0;
  // Pages whose compression is under way in the background, oldest first; pages[index] is empty until then.
  struct Pending {
    size_t index;
    PageHeader header;
    size_t body_size;
    BackgroundCompressor::Ticket ticket;
  };
  std::deque<Pending> pending;
  size_t pending_uncompressed = 0;
  size_t chunk_entries = 0;
  size_t chunk_values = 0;  // present values in the chunk's closed pages
  int64_t null_count = 0;
  bool plain_pages = false;
  std::optional<std::string> min, max;
  std::string body, compressed;

  Impl(Type t, int32_t type_length, int16_t d, int16_t r, std::vector<std::string> p, const WriterOptions& o,
       BackgroundCompressor* b)
      : physical(t),
        width(fixed_width(t, type_length)),
        max_def(d),
        max_rep(r),
        path(std::move(p)),
        options(o),
        compressor(o.codec, o.level),
        background(b),
        dictionary_mode(o.dictionary && t != Type::boolean) {}

  // Numbers (4 or 8 bytes) by a multiply, inline: most dictionary lookups are of numbers, and a call into
  // xxhash for eight bytes cost more than the lookup around it.
  uint64_t hash(std::string_view v) const {
    if (width == 4 || width == 8) {
      // Constant sizes, so that the loads are plain loads (a memcpy of a variable size went through the stack).
      uint64_t x = width == 8 ? load<uint64_t>(v.data()) : load<uint32_t>(v.data());
      x *= 0x9E3779B97F4A7C15ull;
      return x ^ (x >> 32);
    }
    return XXH3_64bits(v.data(), v.size());
  }

  bool entry_equals(uint32_t i, std::string_view v) const {
    const char* entry = dict_data.data() + dict_starts[i];
    if (width == 8) return std::memcmp(entry, v.data(), 8) == 0;
    if (width == 4) return std::memcmp(entry, v.data(), 4) == 0;
    return dict_sizes[i] == v.size() && std::memcmp(entry, v.data(), v.size()) == 0;
  }

  uint32_t intern(std::string_view v) {
    if (table.size() < 2 * (dict_sizes.size() + 1)) grow_table();
    const uint64_t h = hash(v);
    const size_t mask = table.size() - 1;
    for (size_t slot = size_t(h) & mask;; slot = (slot + 1) & mask) {
      const uint32_t entry = table[slot];
      if (entry == 0) {
        const auto index = uint32_t(dict_sizes.size());
        if (physical == Type::byte_array) {
          const auto size = uint32_t(v.size());
          dict_data.append(reinterpret_cast<const char*>(&size), 4);
        }
        dict_starts.push_back(uint32_t(dict_data.size()));
        dict_sizes.push_back(uint32_t(v.size()));
        dict_data.append(v);
        table[slot] = index + 1;
        return index;
      }
      const uint32_t i = entry - 1;
      if (entry_equals(i, v)) return i;
    }
  }

  void grow_table() {
    std::vector<uint32_t> bigger(std::max<size_t>(1024, table.size() * 2), 0);
    const size_t mask = bigger.size() - 1;
    for (uint32_t i = 0; i < dict_sizes.size(); ++i) {
      const uint64_t h = hash(dict_entry(i));
      size_t slot = size_t(h) & mask;
      while (bigger[slot]) slot = (slot + 1) & mask;
      bigger[slot] = i + 1;
    }
    table.swap(bigger);
  }

  std::string_view dict_entry(uint32_t i) const { return std::string_view(dict_data).substr(dict_starts[i], dict_sizes[i]); }

  size_t open_page_bytes() const {
    return def.size() / 4 + rep.size() / 4 + values.size() + indices.size() * size_t(bit_width_for(uint32_t(dict_sizes.size()))) / 8;
  }

  void observe(std::string_view v) {
    if (is_nan(physical, v)) return;  // NaN has no place in an order
    if (!min) min.emplace(v);
    else if (less(physical, v, *min)) min->assign(v);
    if (!max) max.emplace(v);
    else if (less(physical, *max, v)) max->assign(v);
  }

  // A plain page of fixed-width numbers: its extremes in one typed pass, then those two into the chunk's, so
  // that a page costs the chunk's statistics two comparisons rather than one per value (an ascending id would
  // otherwise replace the maximum at every value).
  template <class T>
  void observe_numbers(std::string_view page_values) {
    const size_t n = page_values.size() / sizeof(T);
    size_t i = 0;
    if constexpr (std::is_floating_point_v<T>)
      while (i < n && std::isnan(load<T>(page_values.data() + i * sizeof(T)))) ++i;
    if (i == n) return;
    T lo = load<T>(page_values.data() + i * sizeof(T)), hi = lo;
    for (++i; i < n; ++i) {
      const T v = load<T>(page_values.data() + i * sizeof(T));
      // NaN compares false both ways: left out, as observe leaves it out.
      if (v < lo) lo = v;
      if (hi < v) hi = v;
    }
    observe(std::string_view(reinterpret_cast<const char*>(&lo), sizeof lo));
    observe(std::string_view(reinterpret_cast<const char*>(&hi), sizeof hi));
  }

  // Levels come in long runs (a column that is never null is all one level): each run goes in whole.
  static void put_levels(const std::vector<uint8_t>& levels, RleEncoder& encoder) {
    for (auto at = levels.begin(); at != levels.end();) {
      const uint8_t level = *at;
      const auto end = std::find_if(at, levels.end(), [level](uint8_t l) { return l != level; });
      encoder.put_repeated(level, size_t(end - at));
      at = end;
    }
  }

  void close_page() {
    if (page_entries == 0) return;
    body.clear();
    if (max_rep > 0) {
      RleEncoder levels(bit_width_for(uint32_t(max_rep)));
      put_levels(rep, levels);
      append_v1_levels(levels, body);
    }
    if (max_def > 0) {
      RleEncoder levels(bit_width_for(uint32_t(max_def)));
      put_levels(def, levels);
      append_v1_levels(levels, body);
    }
    size_t present;
    if (dictionary_mode) {
      present = indices.size();
      const int bits = bit_width_for(dict_sizes.empty() ? 0 : uint32_t(dict_sizes.size() - 1));
      body.push_back(char(bits));
      RleEncoder encoder(bits);
      for (uint32_t i : indices) encoder.put(i);
      encoder.finish(body);
      dict_observed.resize(dict_sizes.size(), 0);
      for (uint32_t i : indices)
        if (!dict_observed[i]) {
          dict_observed[i] = 1;
          observe(dict_entry(i));
        }
      dictionary_used = true;
    } else if (physical == Type::boolean) {
      present = values.size();
      encode_plain_booleans(reinterpret_cast<const uint8_t*>(values.data()), values.size(), body);
      if (values.find('\0') != std::string::npos) observe(std::string_view("\0", 1));
      if (values.find_first_not_of('\0') != std::string::npos) observe(std::string_view("\1", 1));
      plain_pages = true;
    } else {
      present = values.size() / std::max<size_t>(width, 1);
      switch (physical) {
        case Type::int32: observe_numbers<int32_t>(values); break;
        case Type::int64: observe_numbers<int64_t>(values); break;
        case Type::float32: observe_numbers<float>(values); break;
        case Type::float64: observe_numbers<double>(values); break;
        default: {
          present = 0;
          std::string_view rest = values;
          while (!rest.empty()) {
            size_t size = width;
            if (physical == Type::byte_array) {
              size = load<uint32_t>(rest.data());
              rest.remove_prefix(4);
            }
            observe(rest.substr(0, size));
            rest.remove_prefix(size);
            ++present;
          }
        }
      }
      body.append(values);
      plain_pages = true;
    }
    null_count += int64_t(page_entries - present);
    chunk_values += present;
    PageHeader h;
    h.type = PageType::data_page;
    h.uncompressed_page_size = int32_t(body.size());
    h.data_page = DataPageHeader{int32_t(page_entries), dictionary_mode ? Encoding::rle_dictionary : Encoding::plain,
                                 Encoding::rle, Encoding::rle, std::nullopt};
    if (background) {
      const size_t body_size = body.size();
      pending.push_back({pages.size(), std::move(h), body_size, background->submit(std::move(body))});
      pages.emplace_back();
      pending_uncompressed += body_size;
      body = std::string();
      settle(false);
    } else {
      std::string_view stored = body;
      if (options.codec != Codec::uncompressed) {
        compressor.run(body, compressed);
        stored = compressed;
      }
      store(pages.emplace_back(), h, body.size(), stored);
    }
    chunk_entries += page_entries;
    page_entries = 0;
    def.clear();
    rep.clear();
    values.clear();
    indices.clear();
  }

  // A page's header, with its compressed size, then its stored body.
  void store(std::string& page, PageHeader& h, size_t body_size, std::string_view stored) {
    h.compressed_page_size = int32_t(stored.size());
    serialize(h, page);
    pages_uncompressed += page.size() + body_size;
    page.reserve(page.size() + stored.size());
    page.append(stored);
    pages_bytes += page.size();
  }

  // Takes in the pages the background has compressed, in order; with `wait`, all of them.
  void settle(bool wait) {
    while (!pending.empty() && (wait || background->ready(pending.front().ticket))) {
      Pending& p = pending.front();
      std::string& stored = background->wait(p.ticket);
      store(pages[p.index], p.header, p.body_size, stored);
      pending_uncompressed -= p.body_size;
      pending.pop_front();
    }
  }
};

ColumnWriter::ColumnWriter(Type physical, int32_t type_length, int16_t max_def, int16_t max_rep,
                           std::vector<std::string> path, const WriterOptions& options, BackgroundCompressor* background)
    : impl_(std::make_unique<Impl>(physical, type_length, max_def, max_rep, std::move(path), options, background)) {}
ColumnWriter::~ColumnWriter() = default;
ColumnWriter::ColumnWriter(ColumnWriter&&) noexcept = default;
ColumnWriter& ColumnWriter::operator=(ColumnWriter&&) noexcept = default;

void ColumnWriter::add_null(int16_t def, int16_t rep) {
  Impl& m = *impl_;
  if (m.max_def > 0) m.def.push_back(uint8_t(def));
  if (m.max_rep > 0) m.rep.push_back(uint8_t(rep));
  ++m.page_entries;
}

void ColumnWriter::add(int16_t rep, std::string_view plain) {
  Impl& m = *impl_;
  if (m.max_def > 0) m.def.push_back(uint8_t(m.max_def));
  if (m.max_rep > 0) m.rep.push_back(uint8_t(rep));
  ++m.page_entries;
  if (m.dictionary_mode) {
    m.indices.push_back(m.intern(plain));
  } else {
    if (m.physical == Type::byte_array) {
      const auto size = uint32_t(plain.size());
      m.values.append(reinterpret_cast<const char*>(&size), 4);
    }
    m.values.append(plain);
  }
}

ColumnWriter::Mark ColumnWriter::mark() const {
  const Impl& m = *impl_;
  return {m.page_entries, m.values.size(), m.indices.size()};
}

void ColumnWriter::rollback(const Mark& mark) {
  Impl& m = *impl_;
  m.page_entries = mark.entries;
  if (m.max_def > 0) m.def.resize(mark.entries);
  if (m.max_rep > 0) m.rep.resize(mark.entries);
  m.values.resize(mark.values_bytes);
  m.indices.resize(mark.values);
}

void ColumnWriter::maybe_close_page() {
  Impl& m = *impl_;
  // Fall back to PLAIN for the rest of the chunk (pages so far keep the dictionary) once the dictionary has
  // outgrown its page, or once it is plainly not repeating itself: when most values are new, a dictionary
  // only adds its own copy of every value.
  const size_t values = m.chunk_values + m.indices.size();
  if (m.dictionary_mode &&
      (m.dict_data.size() > m.options.dictionary_bytes || (m.dict_sizes.size() > 1024 && m.dict_sizes.size() * 2 > values))) {
    m.close_page();
    m.dictionary_mode = false;
    return;
  }
  if (m.page_entries >= kMaxPageEntries || m.open_page_bytes() >= m.options.page_bytes) m.close_page();
}

size_t ColumnWriter::estimated_bytes() const {
  const Impl& m = *impl_;
  // What is not encoded yet shrinks as the chunk's pages so far did: row groups land near their target size
  // instead of short of it by the compression ratio.
  const double ratio = m.pages_uncompressed > 0 ? double(m.pages_bytes) / double(m.pages_uncompressed) : 1.0;
  const size_t raw = m.open_page_bytes() + m.pending_uncompressed +
                     (m.dictionary_used || m.dictionary_mode ? m.dict_data.size() : 0);
  return m.pages_bytes + size_t(double(raw) * ratio);
}

size_t ColumnWriter::entries() const { return impl_->chunk_entries + impl_->page_entries; }

void ColumnWriter::close_page() { impl_->close_page(); }

ColumnChunk ColumnWriter::finish(uint64_t offset, const std::function<void(std::string_view)>& write) {
  Impl& m = *impl_;
  m.close_page();
  if (m.background) m.settle(true);
  ColumnMetaData meta;
  meta.type = m.physical;
  meta.path = m.path;
  meta.codec = m.options.codec;
  meta.num_values = int64_t(m.chunk_entries);
  size_t written = 0, uncompressed = 0;
  if (m.dictionary_used) {
    meta.dictionary_page_offset = int64_t(offset);
    PageHeader h;
    h.type = PageType::dictionary_page;
    h.uncompressed_page_size = int32_t(m.dict_data.size());
    std::string_view stored = m.dict_data;
    if (m.options.codec != Codec::uncompressed) {
      m.compressor.run(m.dict_data, m.compressed);
      stored = m.compressed;
    }
    h.compressed_page_size = int32_t(stored.size());
    h.dictionary_page = DictionaryPageHeader{int32_t(m.dict_sizes.size()), Encoding::plain, false};
    std::string header;
    serialize(h, header);
    write(header);
    write(stored);
    written += header.size() + stored.size();
    uncompressed += header.size() + m.dict_data.size();
  }
  meta.data_page_offset = int64_t(offset + written);
  for (const auto& page : m.pages) write(page);
  written += m.pages_bytes;
  uncompressed += m.pages_uncompressed;
  meta.total_compressed_size = int64_t(written);
  meta.total_uncompressed_size = int64_t(uncompressed);
  if (m.dictionary_used || m.plain_pages) meta.encodings.push_back(Encoding::plain);
  if (m.max_def > 0 || m.max_rep > 0) meta.encodings.push_back(Encoding::rle);
  if (m.dictionary_used) meta.encodings.push_back(Encoding::rle_dictionary);
  Statistics stats;
  stats.null_count = m.null_count;
  if (m.min && m.max && m.min->size() <= kMaxStatisticBytes && m.max->size() <= kMaxStatisticBytes) {
    // The spec's rule for zeros: a minimum of +0 is written as -0 and a maximum of -0 as +0, since readers
    // compare with -0 < +0 and either may be in the data.
    if (m.physical == Type::float32 || m.physical == Type::float64) {
      if (m.physical == Type::float32 && load<float>(m.min->data()) == 0) *m.min = std::string("\0\0\0\x80", 4);
      if (m.physical == Type::float32 && load<float>(m.max->data()) == 0) *m.max = std::string(4, '\0');
      if (m.physical == Type::float64 && load<double>(m.min->data()) == 0) *m.min = std::string("\0\0\0\0\0\0\0\x80", 8);
      if (m.physical == Type::float64 && load<double>(m.max->data()) == 0) *m.max = std::string(8, '\0');
    }
    stats.min_value = std::move(m.min);
    stats.max_value = std::move(m.max);
  }
  meta.statistics = std::move(stats);
  ColumnChunk chunk;
  chunk.file_offset = int64_t(offset);
  chunk.meta_data = std::move(meta);

  // A fresh start for the next row group: its own dictionary, and dictionary encoding tried again.
  m.pages.clear();
  m.pages_bytes = 0;
  m.pages_uncompressed = 0;
  m.chunk_entries = 0;
  m.chunk_values = 0;
  m.null_count = 0;
  m.plain_pages = false;
  m.min.reset();
  m.max.reset();
  m.dict_data.clear();
  m.dict_starts.clear();
  m.dict_sizes.clear();
  m.dict_observed.clear();
  m.table.clear();
  m.dictionary_used = false;
  m.dictionary_mode = m.options.dictionary && m.physical != Type::boolean;
  return chunk;
}

}  // namespace sluice::formats::parquet
