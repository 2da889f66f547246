; Comments in Python source, for Concord: every `@comment` capture is one comment.
; Docstrings are string statements, not comments, so they are captured here by position:
; the first statement of a module, class or function body.
; Captures: @comment (one comment or docstring); @_anything helpers are ignored; any other
; name is an error.

(comment) @comment

(module . (comment)* . (expression_statement . (string) @comment .))

(class_definition
  body: (block . (comment)* . (expression_statement . (string) @comment .)))

(function_definition
  body: (block . (comment)* . (expression_statement . (string) @comment .)))
