; Comments in Java source, for Concord: every `@comment` capture is one comment.
; Javadoc (`/** */`) is a block comment.
; Captures: @comment (one comment or docstring); @_anything helpers are ignored; any other
; name is an error.

(line_comment) @comment
(block_comment) @comment
