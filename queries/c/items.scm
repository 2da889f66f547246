; Traceable items in C source, for Concord.
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

; Unit tests by naming convention (Unity, cmocka, ...): test_xxx functions.
((function_definition
  declarator: (function_declarator declarator: (identifier) @name)) @item.test
  (#match? @name "^test_"))
