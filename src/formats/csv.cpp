#include "formats/csv.hpp"

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include "formats/json_check.hpp"

namespace sluice::formats {
namespace {

std::string describe(char c) {
  const auto u = static_cast<unsigned char>(c);
  char text[16];
  if (u >= 0x20 && u < 0x7f)
    std::snprintf(text, sizeof text, "'%c'", c);
  else  // a raw control or non-ASCII byte would garble the log line that carries this message
    std::snprintf(text, sizeof text, "byte 0x%02X", u);
  return text;
}

// One call's worth of state, kept in members so the small steps below share position and result.
class RecordParser {
 public:
  RecordParser(std::string_view buf, bool at_eof, std::vector<std::string>& fields, const CsvOptions& options)
      : buf_(buf), n_(buf.size()), at_eof_(at_eof), fields_(fields), opt_(options) {}

  CsvParse parse(size_t pos) {
    i_ = pos;
    skip_blank_lines();
    blank_end_ = i_;
    blank_newlines_ = r_.newlines;
    Step step = Step::stop;
    if (i_ == n_)
      need_more();
    else
      do {
        std::string& field = next_field();
        step = buf_[i_] == opt_.quote ? quoted(field) : unquoted(field);
      } while (step == Step::next_field);
    if (step == Step::done) {
      r_.status = CsvStatus::record;
      fields_.resize(count_);
    } else {
      fields_.clear();
    }
    r_.end = i_;
    return std::move(r_);
  }

 private:
  enum class Step { next_field, done, stop };

  // Reuses the strings of the caller's previous record: their capacity saves an allocation per field.
  std::string& next_field() {
    if (count_ == fields_.size()) fields_.emplace_back();
    std::string& f = fields_[count_++];
    f.clear();
    return f;
  }

  void skip_blank_lines() {
    while (i_ < n_) {
      if (buf_[i_] == '\n') {
        i_ += 1;
      } else if (buf_[i_] == '\r' && i_ + 1 < n_ && buf_[i_ + 1] == '\n') {
        i_ += 2;
      } else {
        return;  // a CR at the very end may still become CRLF: the record parser sees it and asks for more
      }
      ++r_.newlines;
    }
  }

  // Decides what a byte that ends a field means; i_ points at it. Anything else than a delimiter or a line
  // terminator is left for the caller (data in an unquoted field, an error after a closing quote).
  enum class End { delimiter, terminator, incomplete, other };
  End field_end() {
    if (i_ == n_) return at_eof_ ? End::terminator : End::incomplete;
    const char c = buf_[i_];
    if (c == opt_.delimiter) {
      ++i_;
      // a trailing delimiter promises one more (empty) field, which needs the rest of the line to confirm
      return i_ == n_ && !at_eof_ ? End::incomplete : End::delimiter;
    }
    if (c == '\n' || (c == '\r' && i_ + 1 < n_ && buf_[i_ + 1] == '\n')) {
      i_ += c == '\n' ? 1 : 2;
      ++r_.newlines;
      return End::terminator;
    }
    if (c == '\r' && i_ + 1 == n_ && !at_eof_) return End::incomplete;  // maybe CRLF, not data or garbage
    return End::other;
  }

  Step after_field(End end) {
    switch (end) {
      case End::delimiter:
        if (i_ == n_) {  // at eof: "a," ends with an empty last field
          next_field();
          return Step::done;
        }
        return Step::next_field;
      case End::terminator:
        return Step::done;
      default:
        return need_more();
    }
  }

  Step unquoted(std::string& field) {
    for (;;) {
      size_t j = i_;
      while (j < n_ && buf_[j] != opt_.delimiter && buf_[j] != '\n' && buf_[j] != '\r') ++j;
      field.append(buf_.substr(i_, j - i_));
      i_ = j;
      const End end = field_end();
      if (end != End::other) return after_field(end);
      field.push_back(buf_[i_++]);  // a lone CR is data
    }
  }

  Step quoted(std::string& field) {
    ++i_;
    for (;;) {
      const size_t j = buf_.find(opt_.quote, i_);
      const size_t stop = j == std::string_view::npos ? n_ : j;
      r_.newlines += std::count(buf_.begin() + i_, buf_.begin() + stop, '\n');
      field.append(buf_.substr(i_, stop - i_));
      if (j == std::string_view::npos) {
        if (!at_eof_) return need_more();
        i_ = n_;
        return fail("unterminated quoted field");
      }
      if (j + 1 == n_ && !at_eof_) return need_more();  // "" or closing quote: can't tell yet
      if (j + 1 < n_ && buf_[j + 1] == opt_.quote) {
        field.push_back(opt_.quote);
        i_ = j + 2;
        continue;
      }
      i_ = j + 1;
      break;
    }
    const End end = field_end();
    if (end != End::other) return after_field(end);
    return fail("unexpected character " + describe(buf_[i_]) + " after closing quote");
  }

  // Puts end past the current line so the caller can resync on the next one.
  Step fail(std::string reason) {
    const size_t lf = buf_.find('\n', i_);
    if (lf != std::string_view::npos) {
      i_ = lf + 1;
      ++r_.newlines;
    } else if (at_eof_) {
      i_ = n_;
    } else {
      return need_more();  // the bad line's end is not here yet; parsing again later fails the same way
    }
    r_.status = CsvStatus::error;
    r_.error = std::move(reason);
    return Step::stop;
  }

  Step need_more() {
    r_.status = CsvStatus::need_more;
    r_.newlines = blank_newlines_;
    i_ = blank_end_;
    return Step::stop;
  }

  std::string_view buf_;
  size_t n_;
  bool at_eof_;
  std::vector<std::string>& fields_;
  const CsvOptions& opt_;
  size_t i_ = 0;
  size_t blank_end_ = 0;
  size_t blank_newlines_ = 0;
  size_t count_ = 0;  // fields of this record so far
  CsvParse r_;
};

}  // namespace

CsvParse parse_csv_record(std::string_view buf, size_t pos, bool at_eof, std::vector<std::string>& fields,
                          const CsvOptions& options) {
  return RecordParser(buf, at_eof, fields, options).parse(pos);
}

size_t utf8_bom_length(std::string_view buf) { return buf.starts_with("\xEF\xBB\xBF") ? 3 : 0; }

std::optional<std::string> csv_row_to_json(const std::vector<std::string>& header,
                                           const std::vector<std::string>& fields, std::string& out) {
  if (fields.size() > header.size())
    return "row has " + std::to_string(fields.size()) + " fields, header has " + std::to_string(header.size());
  out.push_back('{');
  for (size_t k = 0; k < header.size(); ++k) {
    if (k) out.push_back(',');
    append_json_string(out, header[k]);
    out.push_back(':');
    if (k < fields.size())
      append_json_string(out, fields[k]);
    else
      out += "null";
  }
  out.push_back('}');
  return std::nullopt;
}

std::optional<std::string> check_csv_header(const std::vector<std::string>& header) {
  if (header.empty()) return "header has no columns";
  std::unordered_set<std::string_view> seen;
  for (size_t k = 0; k < header.size(); ++k) {
    if (header[k].empty()) return "header column " + std::to_string(k + 1) + " has an empty name";
    if (!seen.insert(header[k]).second) return "duplicate header column \"" + header[k] + "\"";
  }
  return std::nullopt;
}

void append_csv_field(std::string& out, std::string_view value, const CsvOptions& options) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  // Readers that trim unquoted fields would eat edge whitespace, so that gets quoted too.
  const bool quote = value.find_first_of(std::string{options.delimiter, options.quote, '\r', '\n'}) !=
                         std::string_view::npos ||
                     (!value.empty() && (blank(value.front()) || blank(value.back())));
  if (!quote) {
    out += value;
    return;
  }
  out.push_back(options.quote);
  for (const char c : value) {
    if (c == options.quote) out.push_back(c);
    out.push_back(c);
  }
  out.push_back(options.quote);
}

}  // namespace sluice::formats
