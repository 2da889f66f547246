-- Neovim (0.7.2, Debian) as a real LSP client of `concord lsp` on the demo workspace.
--
-- Run headless, from the Rust test `editor_nvim` or by hand:
--   CONCORD_BIN=target/debug/concord WORKSPACE=examples/marketplace \
--     nvim --headless --clean -u NONE -i NONE -n -c "luafile tests/nvim/lsp_test.lua" </dev/null
--
-- It opens real files of the workspace, hovers an ID, goes to its definition, completes an ID
-- typed into a buffer and reads the diagnostics Neovim stored, printing one line per check.
-- Any failed check exits with `cquit 1`; success exits 0. Nothing is written to the workspace.

local api = vim.api

local function say(fmt, ...)
  io.stdout:write(string.format(fmt, ...) .. '\n')
  io.stdout:flush()
end

local failures = 0

local function check(name, ok, detail)
  if ok then
    say('ok   %s', name)
  else
    failures = failures + 1
    say('FAIL %s', name)
    if detail ~= nil then
      say('     %s', type(detail) == 'string' and detail or vim.inspect(detail))
    end
  end
  return ok
end

local function finish()
  if failures > 0 then
    say('%d check(s) failed', failures)
    vim.cmd('cquit 1')
  else
    say('all checks passed')
    vim.cmd('qa!')
  end
end

local function env(name)
  local value = os.getenv(name)
  if value == nil or value == '' then
    error(name .. ' is not set')
  end
  return value
end

local BIN = env('CONCORD_BIN')
local ROOT = vim.loop.fs_realpath(env('WORKSPACE')) or error('WORKSPACE does not exist')
-- Generous: the server loads the workspace in the background before its first answers. Every
-- wait is also cut to what is left of the whole run's budget, so that a broken server still
-- gets every check reported before the Rust test's own 60 s limit kills Neovim.
local TIMEOUT = tonumber(os.getenv('CONCORD_NVIM_TIMEOUT_MS') or '') or 30000
local BUDGET = tonumber(os.getenv('CONCORD_NVIM_BUDGET_MS') or '') or 45000

local function now_ms()
  return vim.loop.hrtime() / 1e6
end

local DEADLINE = now_ms() + BUDGET

local function timeout(ms)
  return math.floor(math.max(500, math.min(ms or TIMEOUT, DEADLINE - now_ms())))
end

local function path(rel)
  return ROOT .. '/' .. rel
end

local function same_file(a, b)
  return (vim.loop.fs_realpath(a) or a) == (vim.loop.fs_realpath(b) or b)
end

local function read_lines(rel)
  local lines = {}
  for line in io.lines(path(rel)) do
    lines[#lines + 1] = line
  end
  return lines
end

-- The first occurrence of `needle` in a file: 1-based line, 0-based byte column.
local function locate(rel, needle)
  for n, line in ipairs(read_lines(rel)) do
    local col = line:find(needle, 1, true)
    if col then
      return n, col - 1
    end
  end
  error(needle .. ' not found in ' .. rel)
end

-- The chunk as the spec index describes it: the expectations come from the workspace itself.
local function chunk(id)
  local file = assert(io.open(path('docs/blueprints/blueprint_index.json'), 'rb'))
  local index = vim.json.decode(file:read('*a'))
  file:close()
  for _, entry in ipairs(index.chunks or index) do
    if entry.id == id then
      return entry
    end
  end
  error(id .. ' is not in the blueprint index')
end

-- A diagnostic as a failure message shows it: without Neovim's copy of the raw LSP fields.
local function brief(d)
  if d == nil then
    return nil
  end
  if d.lnum == nil then
    return vim.tbl_map(brief, d)
  end
  return string.format('%d:%d-%d:%d %s [%s/%s] %s', d.lnum + 1, d.col + 1, (d.end_lnum or d.lnum) + 1,
    (d.end_col or d.col) + 1, vim.diagnostic.severity[d.severity] or '?', tostring(d.source),
    tostring(d.code), d.message)
end

local function run()
  -- No swap files: several runs (or a person's own Neovim) may have the same files open.
  vim.opt.swapfile = false
  vim.cmd('filetype on')
  say('nvim %s, concord %s, workspace %s', tostring(vim.version().major) .. '.' .. vim.version().minor
    .. '.' .. vim.version().patch, BIN, ROOT)

  local exit_code
  local client_id = vim.lsp.start_client({
    name = 'concord',
    cmd = { BIN, 'lsp' },
    root_dir = ROOT,
    on_exit = function(code, signal)
      exit_code = { code = code, signal = signal }
    end,
  })
  if not check('start_client returns a client id', client_id ~= nil) then
    return
  end

  local function client()
    return vim.lsp.get_client_by_id(client_id)
  end

  local initialized = vim.wait(timeout(), function()
    return (client() and client().initialized) or exit_code ~= nil
  end, 20)
  if not check('initialize handshake', initialized and exit_code == nil, { exit = exit_code }) then
    return
  end
  local caps = client().server_capabilities or {}
  check('server capabilities: hover, definition, completion',
    caps.hoverProvider and caps.definitionProvider and caps.completionProvider ~= nil, caps)
  local encoding = client().offset_encoding
  check('offset encoding negotiated as utf-16', encoding == 'utf-16', encoding)

  -- Open a real file and attach, as an editor does on BufEnter.
  local function open(rel)
    vim.cmd('edit ' .. vim.fn.fnameescape(path(rel)))
    local bufnr = api.nvim_get_current_buf()
    vim.lsp.buf_attach_client(bufnr, client_id)
    return bufnr
  end

  -- Send a request until `accept(result)` holds (the server may still be loading). A plain
  -- loop: in Neovim 0.7.2 a `vim.wait` whose condition itself waits (as `buf_request_sync`
  -- does) ignores both its interval and its timeout.
  local function poll(bufnr, method, params, accept)
    local last = 'no response'
    local give_up = now_ms() + timeout()
    repeat
      local responses = vim.lsp.buf_request_sync(bufnr, method, params, timeout(5000))
      local response = responses and responses[client_id]
      if response then
        last = response.err or response.result
        if response.result ~= nil and accept(response.result) then
          return true, last
        end
      end
      vim.wait(100)
    until now_ms() >= give_up
    return false, last
  end

  local td = chunk('TD-0103')
  local heading_file = path(td.source)
  say('TD-0103 in the index: %q at %s:%d', td.title, td.source, td.line)

  -- (a) Hover on the ID in code.
  local gateway = 'services/payments/stripe_gateway.py'
  local row, col = locate(gateway, 'TD-0103')
  local gateway_buf = open(gateway)
  local filetype = vim.bo[gateway_buf].filetype
  check('filetype detected for ' .. gateway, filetype == 'python', filetype)
  api.nvim_win_set_cursor(0, { row, col + 3 })
  local params = vim.lsp.util.make_position_params()
  local ok, hover = poll(gateway_buf, 'textDocument/hover', params, function(result)
    return type(result.contents) == 'table' and type(result.contents.value) == 'string'
      and result.contents.value:find(td.title, 1, true) ~= nil
  end)
  check(string.format('hover on TD-0103 (%s:%d) shows its title', gateway, row), ok, hover)
  if ok then
    check('hover is markdown', hover.contents.kind == 'markdown', hover.contents.kind)
    local r = hover.range
    check('hover range covers the ID', r and r.start.line == row - 1 and r.start.character == col
      and r['end'].line == row - 1 and r['end'].character == col + #'TD-0103', r)
  end

  -- The same hover through Neovim's own handler: a floating window with the rendered text.
  vim.lsp.buf.hover()
  local float_text
  local shown = vim.wait(timeout(), function()
    for _, win in ipairs(api.nvim_list_wins()) do
      if api.nvim_win_get_config(win).relative ~= '' then
        local lines = api.nvim_buf_get_lines(api.nvim_win_get_buf(win), 0, -1, false)
        float_text = table.concat(lines, '\n')
        return true
      end
    end
    return false
  end, 20)
  check('vim.lsp.buf.hover() opens a float with the title',
    shown and float_text:find(td.title, 1, true) ~= nil, float_text)
  for _, win in ipairs(api.nvim_list_wins()) do
    if api.nvim_win_get_config(win).relative ~= '' then
      api.nvim_win_close(win, true)
    end
  end

  -- (b) Go to definition: the chunk's markdown heading.
  api.nvim_set_current_buf(gateway_buf)
  api.nvim_win_set_cursor(0, { row, col + 3 })
  params = vim.lsp.util.make_position_params()
  local definition
  ok, definition = poll(gateway_buf, 'textDocument/definition', params, function(result)
    return not vim.tbl_isempty(result)
  end)
  local location = ok and (definition.uri and definition or definition[1]) or nil
  local target = location and vim.uri_to_fname(location.uri or location.targetUri)
  local range = location and (location.range or location.targetSelectionRange)
  check(string.format('definition of TD-0103 is %s line %d', td.source, td.line),
    location and same_file(target, heading_file) and range.start.line == td.line - 1, definition)

  vim.lsp.buf.definition()
  local jumped = vim.wait(timeout(), function()
    return same_file(api.nvim_buf_get_name(0), heading_file)
  end, 20)
  local cursor = api.nvim_win_get_cursor(0)
  local heading = api.nvim_buf_get_lines(0, cursor[1] - 1, cursor[1], false)[1] or ''
  check('vim.lsp.buf.definition() jumps to the heading',
    jumped and cursor[1] == td.line and heading:find('^#+ TD%-0103 ') ~= nil,
    { buffer = api.nvim_buf_get_name(0), cursor = cursor, line = heading })
  check('the heading carries the indexed title', heading:find(td.title, 1, true) ~= nil, heading)

  -- (c) Completion after typing `TD-01` into a new (never written) buffer. The em dash before it
  -- is 3 bytes in the buffer and 1 UTF-16 unit on the wire: positions must be converted.
  local scratch = 'services/payments/nvim_scratch.py'
  check('scratch file does not exist', vim.loop.fs_stat(path(scratch)) == nil, path(scratch))
  local scratch_buf = open(scratch)
  local prefix = '# charged once — see '
  api.nvim_feedkeys(api.nvim_replace_termcodes('i' .. prefix .. 'TD-01<Esc>', true, false, true), 'nx', false)
  local typed = api.nvim_buf_get_lines(scratch_buf, 0, 1, false)[1]
  check('typed `' .. prefix .. 'TD-01`', typed == prefix .. 'TD-01', typed)
  params = {
    textDocument = vim.lsp.util.make_text_document_params(scratch_buf),
    position = { line = 0, character = vim.str_utfindex(typed) },
    context = { triggerKind = 1 },
  }
  local completion
  ok, completion = poll(scratch_buf, 'textDocument/completion', params, function(result)
    for _, item in ipairs(result.items or result) do
      if item.label == 'TD-0103' then
        return true
      end
    end
    return false
  end)
  local offered
  for _, item in ipairs(ok and (completion.items or completion) or {}) do
    if item.label == 'TD-0103' then
      offered = item
    end
  end
  check('completion after `TD-01` offers TD-0103', offered ~= nil, completion)
  if offered then
    check('TD-0103 completion detail is its title', offered.detail == td.title, offered)
    local others = true
    for _, item in ipairs(completion.items or completion) do
      others = others and item.label:sub(1, 5) == 'TD-01'
    end
    check('every completion starts with TD-01', others, completion)
    local menu
    local entries = vim.lsp.util.text_document_completion_list_to_complete_items(completion, 'TD-01')
    for _, entry in ipairs(entries) do
      if entry.abbr == 'TD-0103' then
        menu = entry
      end
    end
    local shown_entry = menu and { word = menu.word, abbr = menu.abbr, kind = menu.kind, menu = menu.menu }
    check('the completion menu shows `TD-0103  ' .. td.title .. '`',
      menu and menu.word == 'TD-0103' and menu.menu == td.title, shown_entry)

    -- Accept it as Neovim applies an edit, then hover the completed ID (in the unsaved buffer).
    if offered.textEdit then
      vim.lsp.util.apply_text_edits({ offered.textEdit }, scratch_buf, client().offset_encoding)
    else
      api.nvim_buf_set_lines(scratch_buf, 0, 1, false, { prefix .. (offered.insertText or offered.label) })
    end
    local completed = api.nvim_buf_get_lines(scratch_buf, 0, 1, false)[1]
    check('accepting the completion gives `' .. prefix .. 'TD-0103`', completed == prefix .. 'TD-0103',
      completed)
    api.nvim_win_set_cursor(0, { 1, #prefix + 2 })
    local hovered
    params = vim.lsp.util.make_position_params()
    ok, hovered = poll(scratch_buf, 'textDocument/hover', params, function(result)
      return result.range ~= nil and type(result.contents) == 'table'
        and tostring(result.contents.value):find(td.title, 1, true) ~= nil
    end)
    local start = vim.str_utfindex(prefix)
    check(string.format('hover after the em dash: range starts at UTF-16 column %d', start),
      ok and hovered.range.start.character == start and hovered.range['end'].character == start + 7, hovered)
  end
  api.nvim_buf_set_option(scratch_buf, 'modified', false)

  -- (d) Diagnostics as Neovim stores them.
  local function wait_diagnostic(bufnr, accept)
    local found
    vim.wait(timeout(), function()
      for _, d in ipairs(vim.diagnostic.get(bufnr)) do
        if accept(d) then
          found = d
          return true
        end
      end
      return false
    end, 50)
    return found
  end

  local refunds = 'services/payments/refunds.py'
  local bad_row, bad_col = locate(refunds, 'TD-0130')
  -- A push client is sent the errors of files it never opened (and, by default, not their
  -- warnings: see the loop below).
  local unopened_buf = vim.fn.bufadd(path(refunds))
  local early = wait_diagnostic(unopened_buf, function(d)
    return d.code == 'unknown-id'
  end)
  check(string.format('unknown-id diagnostic in %s before it is opened', refunds), early ~= nil,
    brief(vim.diagnostic.get(unopened_buf)))
  local refunds_buf = open(refunds)
  local unknown = wait_diagnostic(refunds_buf, function(d)
    return d.code == 'unknown-id'
  end)
  check(string.format('unknown-id diagnostic in %s', refunds), unknown ~= nil,
    brief(vim.diagnostic.get(refunds_buf)))
  if unknown then
    say('     %s:%d:%d %s', refunds, unknown.lnum + 1, unknown.col + 1, unknown.message)
    check(string.format('unknown-id at line %d column %d', bad_row, bad_col + 1),
      unknown.lnum == bad_row - 1 and unknown.col == bad_col and unknown.end_col == bad_col + #'TD-0130',
      brief(unknown))
    check('unknown-id is an error from source concord',
      unknown.severity == vim.diagnostic.severity.ERROR and unknown.source == 'concord', brief(unknown))
    check('unknown-id names TD-0130 and suggests TD-0103',
      unknown.message:find('TD-0130', 1, true) ~= nil and unknown.message:find('TD-0103', 1, true) ~= nil,
      unknown.message)
  end
  local spurious = {}
  for _, d in ipairs(vim.diagnostic.get(gateway_buf)) do
    if d.code == 'unknown-id' then
      spurious[#spurious + 1] = d
    end
  end
  check('no unknown-id in ' .. gateway, #spurious == 0, brief(spurious))

  -- An untraced file that is open. One that never was is not sent its warning with the default
  -- `lsp.diagnostics_scope = "open"` (a Problems list of every untraced file helps nobody).
  for _, case in ipairs({ { 'web/src/legacy/banner.ts', true } }) do
    local rel, visit = case[1], case[2]
    local bufnr = visit and open(rel) or vim.fn.bufadd(path(rel))
    local untraced = wait_diagnostic(bufnr, function(d)
      return d.code == 'untraced-file'
    end)
    check(string.format('untraced-file diagnostic in %s (%s)', rel, visit and 'open' or 'not opened'),
      untraced ~= nil and untraced.source == 'concord', brief(vim.diagnostic.get(bufnr)))
    if untraced then
      say('     %s:%d:%d %s', rel, untraced.lnum + 1, untraced.col + 1, untraced.message)
    end
  end

  -- The workspace was indexed (the unopened file's error came): the unopened untraced file got
  -- no warning.
  local cleanup_buf = vim.fn.bufadd(path('tools/cleanup.py'))
  check('no diagnostics for tools/cleanup.py, never opened and without errors',
    #vim.diagnostic.get(cleanup_buf) == 0, brief(vim.diagnostic.get(cleanup_buf)))

  -- Shut down as Neovim does on exit: shutdown, exit, and the server leaves with code 0.
  vim.lsp.stop_client(client_id)
  vim.wait(timeout(10000), function()
    return exit_code ~= nil
  end, 20)
  check('server exits with code 0 after shutdown', exit_code and exit_code.code == 0, exit_code)
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  failures = failures + 1
  say('FAIL the script raised an error')
  say('%s', err)
end
finish()
