; Comments in c source, for Concord: every `@comment` capture is one comment.
; Captures: @comment (one comment or docstring); @_anything helpers are ignored; any other
; name is an error.

(comment) @comment
