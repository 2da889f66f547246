; Traceable items in C source, for Concord.
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
