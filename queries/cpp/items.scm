; Traceable items in C++ source, for Concord.
;
; Captures: see queries/README.md (the contract with the Rust module `items`).

; Function definitions (prototypes are not items), also returning pointers.
(function_definition
  declarator: (function_declarator declarator: (identifier) @name)) @item.function
(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator declarator: (identifier) @name))) @item.function
(function_definition
  declarator: (pointer_declarator
    declarator: (pointer_declarator
      declarator: (function_declarator declarator: (identifier) @name)))) @item.function

; Structs, unions and enums with a body; anonymous ones named by their typedef.
(struct_specifier name: (type_identifier) @name body: (field_declaration_list)) @item.struct
(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @item.struct
(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @item.enum
(type_definition
  type: [
    (struct_specifier !name body: (field_declaration_list))
    (union_specifier !name body: (field_declaration_list))
  ]
  declarator: (type_identifier) @name) @item.struct
(type_definition
  type: (enum_specifier !name body: (enumerator_list))
  declarator: (type_identifier) @name) @item.enum

; Also functions returning references.
(function_definition
  declarator: (reference_declarator
    (function_declarator declarator: (identifier) @name))) @item.function

(class_specifier name: (type_identifier) @name body: (field_declaration_list)) @item.class
(class_specifier name: (template_type) @name body: (field_declaration_list)) @item.class
(struct_specifier name: (template_type) @name body: (field_declaration_list)) @item.struct
(namespace_definition name: [(namespace_identifier) (nested_namespace_specifier)] @name) @item.module

; Methods: defined in a class body, or out of line as Class::method.
(function_definition
  declarator: (function_declarator
    declarator: [(field_identifier) (destructor_name) (operator_name) (qualified_identifier)] @name)) @item.method
(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: [(field_identifier) (operator_name) (qualified_identifier)] @name))) @item.method
(function_definition
  declarator: (reference_declarator
    (function_declarator
      declarator: [(field_identifier) (operator_name) (qualified_identifier)] @name))) @item.method
(field_declaration_list
  (function_definition
    declarator: (function_declarator declarator: (identifier) @name)) @item.method)
(field_declaration_list
  (template_declaration
    (function_definition
      declarator: (function_declarator
        declarator: [(identifier) (field_identifier)] @name)) @item.method))

; GoogleTest: TEST(Suite, Name) { ... } and its _F / _P / TYPED_ forms, named by the test.
((function_definition
  declarator: (function_declarator
    declarator: (identifier) @_macro
    parameters: (parameter_list
      .
      (parameter_declaration)
      .
      (parameter_declaration type: (_) @name)))) @item.test
  (#any-of? @_macro "TEST" "TEST_F" "TEST_P" "TYPED_TEST" "TYPED_TEST_P"))
