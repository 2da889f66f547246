; Traceable items in Go source, for Concord.
;
; Capture scheme of every items.scm (a contract with the Rust module `items`):
;
;   @item.<kind>        the whole item node; <kind> is one of
;                       function method class struct impl trait interface enum test module
;   @item.<kind>.test   the same, and the item is test code (a test class, a test module)
;   @item.test          a test function or test case (kind `test`, is_test)
;   @item               shorthand for @item.function
;   @name               the node whose text names the item (required in every pattern;
;                       quotes around a string name are removed)
;   @_anything          helper captures for predicates; ignored
;
; Any other capture name is an error. When several patterns capture the same node, a test
; capture wins, then `method`, then the pattern written first. Items nested in a test item
; are test code too. Publicity, leading comments and where a new comment goes are worked
; out by the module from the syntax tree, not here.

(function_declaration name: (identifier) @name) @item.function
(method_declaration name: (field_identifier) @name) @item.method

(type_spec name: (type_identifier) @name type: (struct_type)) @item.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @item.interface

; go test: func TestXxx(t *testing.T), BenchmarkXxx(b *testing.B), FuzzXxx(f *testing.F)
(function_declaration
  name: (identifier) @name
  parameters: (parameter_list
    .
    (parameter_declaration
      type: (pointer_type
        (qualified_type
          package: (package_identifier) @_pkg
          name: (type_identifier) @_type)))
    .)
  (#match? @name "^(Test|Benchmark|Fuzz)([^a-z]|$)")
  (#eq? @_pkg "testing")
  (#any-of? @_type "T" "B" "F")) @item.test
