; Traceable items in Go source, for Concord.
;
; Captures: see queries/README.md (the contract with the Rust module `items`).

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
