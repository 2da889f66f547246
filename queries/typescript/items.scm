; Traceable items in TypeScript and TSX source, for Concord.
;
; Captures: see queries/README.md (the contract with the Rust module `items`).

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

(class_declaration name: (type_identifier) @name) @item.class
(abstract_class_declaration name: (type_identifier) @name) @item.class
(interface_declaration name: (type_identifier) @name) @item.interface
(enum_declaration name: (identifier) @name) @item.enum

; namespace N {}, module M {}, declare module "m" {}
(internal_module name: [(identifier) (nested_identifier) (string)] @name) @item.module
(module name: [(identifier) (nested_identifier) (string)] @name) @item.module

(method_definition
  name: [(property_identifier) (private_property_identifier) (string) (computed_property_name)] @name) @item.method

; Methods declared without a body: in interfaces and abstract classes.
(method_signature
  name: [(property_identifier) (private_property_identifier) (string) (computed_property_name)] @name) @item.method
(abstract_method_signature
  name: [(property_identifier) (private_property_identifier) (string) (computed_property_name)] @name) @item.method

; Class fields holding a function: handle = () => {}
(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name
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
