; Traceable items in JavaScript source, for Concord.
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
(generator_function_declaration name: (identifier) @name) @item.function

; const f = () => {}, let g = function () {}, var h = function* () {}
(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @item.function
(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @item.function

(class_declaration name: (identifier) @name) @item.class

(method_definition
  name: [(property_identifier) (private_property_identifier) (string) (computed_property_name)] @name) @item.method

; Class fields holding a function: handle = () => {}
(field_definition
  property: [(property_identifier) (private_property_identifier)] @name
  value: [(arrow_function) (function_expression)]) @item.method

; Test cases and suites: it("..."), test("..."), describe("..."), and their
; .only / .skip / .todo / .concurrent / .failing forms, named by the first argument.
(call_expression
  function: (identifier) @_fn
  arguments: (arguments . [(string) (template_string)] @name)
  (#any-of? @_fn "it" "test" "describe" "suite")) @item.test

(call_expression
  function: (member_expression
    object: (identifier) @_fn
    property: (property_identifier) @_modifier)
  arguments: (arguments . [(string) (template_string)] @name)
  (#any-of? @_fn "it" "test" "describe" "suite")
  (#any-of? @_modifier "only" "skip" "todo" "concurrent" "failing" "sequential")) @item.test
