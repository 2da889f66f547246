; Traceable items in Java source, for Concord.
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
