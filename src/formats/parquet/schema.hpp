#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "formats/parquet/metadata.hpp"

// A file's schema as a tree, with what the flat SchemaElement list leaves implicit worked out once: each node's
// definition and repetition levels, and what a group means (a struct, a list or a map) under the spec's rules,
// including the backward-compatibility rules for lists and maps written by older tools (LogicalTypes.md).
namespace sluice::formats::parquet {

struct SchemaNode {
  enum class Kind : uint8_t {
    primitive,
    group,  // a struct: a JSON object of its children
    list,   // children[0] is the element
    map,    // children[0] is the key, children[1] the value (absent for a legacy key-only map: a JSON array of keys)
  };
  Kind kind = Kind::primitive;
  std::string name;
  SchemaElement element;  // as the file declares it
  Repetition repetition = Repetition::required;
  // Levels at this node: how many optional or repeated fields from the root down to it, itself included, and
  // how many of them repeat.
  int16_t def_level = 0;
  int16_t rep_level = 0;
  // For lists and maps, the levels of the repeated field that holds the entries: a value's definition level
  // below entry_def_level means the list is null (below def_level) or empty; its repetition level equal to
  // entry_rep_level starts another entry of this list.
  int16_t entry_def_level = 0;
  int16_t entry_rep_level = 0;
  int32_t leaf = -1;  // primitive: index into Schema::leaves
  int32_t first_leaf = -1, leaf_count = 0;  // the leaves under this node, contiguous
  std::vector<int32_t> children;  // indices into Schema::nodes, in schema order
};

class Schema {
 public:
  // Builds the tree; throws ParquetError naming the element that breaks the rules (a group with no children,
  // children counts that do not add up, a LIST-annotated group whose repeated field is missing, nesting past
  // limits.max_nesting, a primitive without a physical type, ...).
  static Schema from_elements(const std::vector<SchemaElement>& elements, const Limits& limits);

  const std::vector<SchemaNode>& nodes() const { return nodes_; }
  const SchemaNode& root() const { return nodes_[0]; }
  // Leaf nodes in file order: the order of a row group's column chunks.
  const std::vector<int32_t>& leaves() const { return leaves_; }
  const SchemaNode& leaf(size_t i) const { return nodes_[size_t(leaves_[i])]; }
  // "a.list.element" — as path_in_schema names it.
  const std::vector<std::string>& leaf_path(size_t i) const { return leaf_paths_[i]; }
  std::string leaf_name(size_t i) const;  // the path joined with '.'

 private:
  friend class SchemaAssembler;
  std::vector<SchemaNode> nodes_;
  std::vector<int32_t> leaves_;
  std::vector<std::vector<std::string>> leaf_paths_;
};

}  // namespace sluice::formats::parquet
