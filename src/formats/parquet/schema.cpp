#include "formats/parquet/schema.hpp"

namespace sluice::formats::parquet {

namespace {

// The tree as the file spells it, before lists and maps are recognised.
struct Physical {
  const SchemaElement* element = nullptr;
  std::vector<Physical> children;
  std::vector<std::string> path;
  int16_t def = 0, rep = 0;
  bool is_group() const { return element->num_children.has_value(); }
  bool repeated() const { return element->repetition == Repetition::repeated; }
};

bool annotated_list(const SchemaElement& e) {
  return e.logical.kind == LogicalType::Kind::list || (e.logical.kind == LogicalType::Kind::none && e.converted == ConvertedType::list);
}

bool annotated_map(const SchemaElement& e) {
  return e.logical.kind == LogicalType::Kind::map ||
         (e.logical.kind == LogicalType::Kind::none &&
          (e.converted == ConvertedType::map || e.converted == ConvertedType::map_key_value));
}

class Builder {
 public:
  Builder(const std::vector<SchemaElement>& elements, const Limits& limits) : elements_(elements), limits_(limits) {}

  Physical parse_root() {
    if (elements_.empty()) throw ParquetError("schema: no elements");
    const SchemaElement& root = elements_[0];
    if (!root.num_children || *root.num_children <= 0)
      throw ParquetError("schema: the root '" + root.name + "' has no columns");
    Physical p;
    p.element = &root;
    next_ = 1;
    parse_children(p, 1);
    if (next_ != elements_.size())
      throw ParquetError("schema: " + std::to_string(elements_.size() - next_) +
                         " elements follow the last field the root's children count covers");
    return p;
  }

 private:
  void parse_children(Physical& parent, uint32_t depth) {
    const int32_t count = *parent.element->num_children;
    if (count < 0 || size_t(count) > elements_.size() - next_)
      throw ParquetError("schema: '" + parent.element->name + "' claims " + std::to_string(count) +
                         " children, more than the elements left");
    if (depth > limits_.max_nesting)
      throw ParquetError("schema: fields nested deeper than " + std::to_string(limits_.max_nesting));
    parent.children.reserve(size_t(count));
    for (int32_t i = 0; i < count; ++i) {
      // The count was checked against what was left, but earlier children's own children take from it too.
      if (next_ >= elements_.size())
        throw ParquetError("schema: '" + parent.element->name + "' claims " + std::to_string(count) +
                           " children, but the schema ends after " + std::to_string(i));
      Physical child;
      child.element = &elements_[next_++];
      const SchemaElement& e = *child.element;
      if (!e.repetition) throw ParquetError("schema: field '" + e.name + "' has no repetition type");
      if (int32_t(*e.repetition) < 0 || int32_t(*e.repetition) > 2)
        throw ParquetError("schema: field '" + e.name + "' has an unknown repetition type");
      child.path = parent.path;
      child.path.push_back(e.name);
      child.def = int16_t(parent.def + (*e.repetition != Repetition::required));
      child.rep = int16_t(parent.rep + (*e.repetition == Repetition::repeated));
      if (child.is_group()) {
        if (*e.num_children <= 0) throw ParquetError("schema: group '" + e.name + "' has no fields");
        parse_children(child, depth + 1);
      } else {
        if (!e.type) throw ParquetError("schema: field '" + e.name + "' has neither a type nor fields");
        if (int32_t(*e.type) < 0 || int32_t(*e.type) > 7)
          throw ParquetError("schema: field '" + e.name + "' has unknown physical type " + std::to_string(int32_t(*e.type)));
        if (*e.type == Type::fixed_len_byte_array && (!e.type_length || *e.type_length <= 0 || *e.type_length > (1 << 24)))
          throw ParquetError("schema: FIXED_LEN_BYTE_ARRAY field '" + e.name + "' has no valid type_length");
      }
      parent.children.push_back(std::move(child));
    }
  }

  const std::vector<SchemaElement>& elements_;
  const Limits& limits_;
  size_t next_ = 0;
};

}  // namespace

class SchemaAssembler {
 public:
  explicit SchemaAssembler(Schema& s) : s_(s) {}

  // A repeated field outside a LIST- or MAP-annotated group is a required list of required elements (the
  // spec's backward-compatibility rule); `as_entry` says the caller already made it the entry of a list or map.
  int32_t convert(const Physical& p, bool as_entry) {
    if (p.repeated() && !as_entry) {
      const int32_t list = add(p, SchemaNode::Kind::list);
      auto& n = s_.nodes_[size_t(list)];
      n.repetition = Repetition::required;
      n.def_level = int16_t(p.def - 1);
      n.rep_level = int16_t(p.rep - 1);
      n.entry_def_level = p.def;
      n.entry_rep_level = p.rep;
      const size_t first = s_.leaves_.size();
      const int32_t element = convert(p, true);
      finish(list, element, first);
      return list;
    }
    if (!p.is_group()) {
      const int32_t node = add(p, SchemaNode::Kind::primitive);
      s_.nodes_[size_t(node)].leaf = int32_t(s_.leaves_.size());
      s_.nodes_[size_t(node)].first_leaf = int32_t(s_.leaves_.size());
      s_.nodes_[size_t(node)].leaf_count = 1;
      s_.leaves_.push_back(node);
      s_.leaf_paths_.push_back(p.path);
      return node;
    }
    const SchemaElement& e = *p.element;
    if (annotated_list(e)) return convert_list(p);
    if (annotated_map(e)) return convert_map(p);
    const int32_t group = add(p, SchemaNode::Kind::group);
    const size_t first = s_.leaves_.size();
    for (const auto& c : p.children) {
      const int32_t child = convert(c, false);
      s_.nodes_[size_t(group)].children.push_back(child);
    }
    set_leaves(group, first);
    return group;
  }

  int32_t convert_root(const Physical& root) {
    const int32_t node = add(root, SchemaNode::Kind::group);
    s_.nodes_[size_t(node)].repetition = Repetition::required;
    for (const auto& c : root.children) {
      const int32_t child = convert(c, false);
      s_.nodes_[size_t(node)].children.push_back(child);
    }
    set_leaves(node, 0);
    return node;
  }

 private:
  int32_t convert_list(const Physical& p) {
    const SchemaElement& e = *p.element;
    if (p.children.size() != 1 || !p.children[0].repeated())
      throw ParquetError("schema: LIST-annotated group '" + e.name + "' must hold exactly one repeated field");
    const Physical& entry = p.children[0];
    const int32_t list = add(p, SchemaNode::Kind::list);
    s_.nodes_[size_t(list)].entry_def_level = entry.def;
    s_.nodes_[size_t(list)].entry_rep_level = entry.rep;
    const size_t first = s_.leaves_.size();
    // Which field is the element (LogicalTypes.md, backward-compatibility rules): the repeated field itself when
    // it is a primitive, a group of several fields, or a group named "array" or "<list>_tuple" (2-level lists
    // from old Thrift and Avro writers); otherwise its only field (the standard 3-level list).
    const bool two_level = !entry.is_group() || entry.children.size() > 1 || entry.element->name == "array" ||
                           entry.element->name == e.name + "_tuple";
    const int32_t element = two_level ? convert(entry, true) : convert(entry.children[0], false);
    finish(list, element, first);
    return list;
  }

  int32_t convert_map(const Physical& p) {
    const SchemaElement& e = *p.element;
    if (p.children.size() != 1 || !p.children[0].repeated() || !p.children[0].is_group() ||
        p.children[0].children.empty() || p.children[0].children.size() > 2)
      throw ParquetError("schema: MAP-annotated group '" + e.name +
                         "' must hold exactly one repeated group of a key and a value");
    const Physical& entry = p.children[0];
    const int32_t map = add(p, SchemaNode::Kind::map);
    s_.nodes_[size_t(map)].entry_def_level = entry.def;
    s_.nodes_[size_t(map)].entry_rep_level = entry.rep;
    const size_t first = s_.leaves_.size();
    for (const auto& c : entry.children) {
      const int32_t child = convert(c, false);
      s_.nodes_[size_t(map)].children.push_back(child);
    }
    set_leaves(map, first);
    return map;
  }

  int32_t add(const Physical& p, SchemaNode::Kind kind) {
    SchemaNode n;
    n.kind = kind;
    n.name = p.element->name;
    n.element = *p.element;
    n.repetition = p.element->repetition.value_or(Repetition::required);
    n.def_level = p.def;
    n.rep_level = p.rep;
    s_.nodes_.push_back(std::move(n));
    return int32_t(s_.nodes_.size() - 1);
  }

  void finish(int32_t list, int32_t element, size_t first) {
    s_.nodes_[size_t(list)].children.push_back(element);
    set_leaves(list, first);
  }

  void set_leaves(int32_t node, size_t first) {
    s_.nodes_[size_t(node)].first_leaf = int32_t(first);
    s_.nodes_[size_t(node)].leaf_count = int32_t(s_.leaves_.size() - first);
  }

  Schema& s_;
};

Schema Schema::from_elements(const std::vector<SchemaElement>& elements, const Limits& limits) {
  Builder builder(elements, limits);
  const Physical root = builder.parse_root();
  Schema s;
  s.nodes_.reserve(elements.size() * 2);
  SchemaAssembler(s).convert_root(root);
  return s;
}

std::string Schema::leaf_name(size_t i) const {
  std::string name;
  for (const auto& part : leaf_paths_[i]) {
    if (!name.empty()) name += '.';
    name += part;
  }
  return name;
}

}  // namespace sluice::formats::parquet
