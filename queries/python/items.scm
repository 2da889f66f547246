; Traceable items in Python source, for Concord.
;
; Captures: see queries/README.md (the contract with the Rust module `items`).

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
