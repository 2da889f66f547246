; Traceable items in Java source, for Concord.
;
; Captures: see queries/README.md (the contract with the Rust module `items`).

(class_declaration name: (identifier) @name) @item.class
(record_declaration name: (identifier) @name) @item.class
(interface_declaration name: (identifier) @name) @item.interface
(annotation_type_declaration name: (identifier) @name) @item.interface
(enum_declaration name: (identifier) @name) @item.enum

(method_declaration name: (identifier) @name) @item.method
(constructor_declaration name: (identifier) @name) @item.method
(compact_constructor_declaration name: (identifier) @name) @item.method

; JUnit 4/5 and friends: methods annotated @Test, @ParameterizedTest, @org.junit.Test, ...
(method_declaration
  (modifiers
    [
      (marker_annotation name: [(identifier) @_ann (scoped_identifier name: (identifier) @_ann)])
      (annotation name: [(identifier) @_ann (scoped_identifier name: (identifier) @_ann)])
    ])
  name: (identifier) @name
  (#any-of? @_ann "Test" "ParameterizedTest" "RepeatedTest" "TestFactory" "TestTemplate" "Property")) @item.test
