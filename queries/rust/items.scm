; Traceable items in Rust source, for Concord.
;
; Captures: see queries/README.md (the contract with the Rust module `items`).

; Free functions (also matched inside impls and traits; the method patterns below win there).
(function_item name: (identifier) @name) @item.function

; Methods: functions in an impl block, functions and signatures in a trait.
(impl_item
  body: (declaration_list
    (function_item name: (identifier) @name) @item.method))

(trait_item
  body: (declaration_list
    [
      (function_item name: (identifier) @name)
      (function_signature_item name: (identifier) @name)
    ] @item.method))

(struct_item name: (type_identifier) @name) @item.struct
(union_item name: (type_identifier) @name) @item.struct
(enum_item name: (type_identifier) @name) @item.enum
(trait_item name: (type_identifier) @name) @item.trait

; An impl block is named after the type it implements for.
(impl_item type: (_) @name) @item.impl

; Modules with a body (`mod x;` declarations are not items).
(mod_item name: (identifier) @name body: (declaration_list)) @item.module

; Test functions: #[test], #[tokio::test], #[rstest], #[test_case(..)], ... with any other
; attributes or comments between the attribute and the function.
(
  (attribute_item
    (attribute [
      (identifier) @_attr
      (scoped_identifier name: (identifier) @_attr)
    ]))
  .
  [(attribute_item) (line_comment) (block_comment)]*
  .
  (function_item name: (identifier) @name) @item.test
  (#any-of? @_attr "test" "rstest" "test_case" "quickcheck")
)

; #[cfg(test)] modules are test code.
(
  (attribute_item
    (attribute
      (identifier) @_cfg
      arguments: (token_tree (identifier) @_test)))
  .
  [(attribute_item) (line_comment) (block_comment)]*
  .
  (mod_item name: (identifier) @name body: (declaration_list)) @item.module.test
  (#eq? @_cfg "cfg")
  (#eq? @_test "test")
)
