; Traceable items in Python source, for Concord.
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

(function_definition name: (identifier) @name) @item.function
(class_definition name: (identifier) @name) @item.class

; Methods: functions directly in a class body, decorated or not.
(class_definition
  body: (block
    [
      (function_definition name: (identifier) @name) @item.method
      (decorated_definition
        definition: (function_definition name: (identifier) @name) @item.method)
    ]))

; pytest: module-level `test*` functions ...
(module
  [
    (function_definition name: (identifier) @name) @item.test
    (decorated_definition
      definition: (function_definition name: (identifier) @name) @item.test)
  ]
  (#match? @name "^test"))

; ... `Test*` classes and their `test*` methods ...
((class_definition name: (identifier) @name) @item.class.test
  (#match? @name "^Test"))

(class_definition
  name: (identifier) @_class
  body: (block
    [
      (function_definition name: (identifier) @name) @item.test
      (decorated_definition
        definition: (function_definition name: (identifier) @name) @item.test)
    ])
  (#match? @_class "^Test")
  (#match? @name "^test"))

; ... and unittest: subclasses of `TestCase` and their `test*` methods.
((class_definition
  name: (identifier) @name
  superclasses: (argument_list [(identifier) (attribute)] @_base)) @item.class.test
  (#match? @_base "TestCase$"))

(class_definition
  superclasses: (argument_list [(identifier) (attribute)] @_base)
  body: (block
    [
      (function_definition name: (identifier) @name) @item.test
      (decorated_definition
        definition: (function_definition name: (identifier) @name) @item.test)
    ])
  (#match? @_base "TestCase$")
  (#match? @name "^test"))
