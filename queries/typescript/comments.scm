; Comments in TypeScript and TSX source, for Concord: every `@comment` capture is one comment.
; JSDoc blocks (`/** */`) are comments too.
; Captures: @comment (one comment or docstring); @_anything helpers are ignored; any other
; name is an error.

(comment) @comment
(html_comment) @comment
