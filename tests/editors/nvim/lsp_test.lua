-- Headless Neovim end-to-end test of the Proc language server (`procc lsp`).
--
--   PROCC=/path/to/procc PROC_FILE=/tmp/x/complaint.proc \
--     nvim --headless -u NONE -i NONE -n -c 'luafile tests/editors/nvim/lsp_test.lua'
--
-- PROC_FILE must be a copy of examples/complaint.proc in which the first `by Agent` reads `by Agentt`
-- (run.sh makes it). Works on Neovim 0.7 (vim.lsp.start_client) and 0.8+ (vim.lsp.start).
-- Prints one PASS/FAIL line per check, then exits 0 (all passed) or 1 (cquit).

local failures, checks = 0, 0
local function out(s) io.stdout:write(s .. '\n') end
local function check(name, ok, detail)
  checks = checks + 1
  if ok then
    out('PASS ' .. name .. (detail and (': ' .. detail) or ''))
  else
    failures = failures + 1
    out('FAIL ' .. name .. (detail and (': ' .. detail) or ''))
  end
  return ok
end
local function finish()
  out(string.format('nvim: %d checks, %d failed', checks, failures))
  io.stdout:flush()
  if failures == 0 and checks > 0 then vim.cmd('qa!') else vim.cmd('cquit 1') end
end

local function main()
  local procc = os.getenv('PROCC') or 'procc'
  local file = os.getenv('PROC_FILE')
  assert(file and file ~= '', 'PROC_FILE is not set')
  file = vim.fn.fnamemodify(file, ':p')
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  vim.bo.filetype = 'proc' -- -u NONE: no filetype detection
  local buf = vim.api.nvim_get_current_buf()
  local v = vim.version()
  out(string.format('nvim %d.%d.%d, server %s lsp, file %s', v.major, v.minor, v.patch, procc, file))

  -- Lines (0-based) of interest, found in the buffer itself.
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local function find(text)
    for i, l in ipairs(lines) do
      local col = l:find(text, 1, true)
      if col then return i - 1, col - 1 end
    end
    error('not found in ' .. file .. ': ' .. text)
  end
  local typo_line, typo_col = find('by Agentt')
  typo_col = typo_col + 3
  local step_line, step_col = find('step acknowledge')
  step_col = step_col + 5 + 2 -- inside `acknowledge`
  local use_line, use_col = find('by Supervisor')
  use_col = use_col + 3 + 2 -- inside `Supervisor`
  local decl_line = find('role Supervisor')

  local exit_code, exit_signal
  local config = {
    name = 'proc',
    cmd = { procc, 'lsp' },
    root_dir = vim.fn.fnamemodify(file, ':h'), -- the package: the directory holding the file
    on_exit = function(code, signal) exit_code, exit_signal = code, signal end,
  }
  local client_id
  if vim.lsp.start then
    client_id = vim.lsp.start(config)
  else
    client_id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(buf, client_id)
  end
  check('client started', client_id ~= nil)
  local client = vim.lsp.get_client_by_id(client_id)
  vim.wait(10000, function() return client.initialized end, 20)
  check('initialized', client.initialized,
    client.server_capabilities and ('positionEncoding=' .. tostring(client.server_capabilities.positionEncoding)) or nil)
  local pid = client.rpc and client.rpc.pid

  -- 1. The diagnostic for the misspelt role.
  vim.wait(10000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
  local diags = vim.diagnostic.get(buf)
  local d = diags[1] or {}
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  out(string.format('  DIAG %s:%s-%s:%s sev=%s src=%s code=%s msg=%s', tostring(d.lnum), tostring(d.col),
    tostring(d.end_lnum), tostring(d.end_col), tostring(d.severity), tostring(d.source), tostring(code),
    (tostring(d.message):gsub('\n', '\\n'))))
  check('one diagnostic', #diags == 1, tostring(#diags))
  check('diagnostic mentions Agentt', d.message ~= nil and d.message:find('Agentt', 1, true) ~= nil)
  check('diagnostic code P0007', code == 'P0007', tostring(code))
  check('diagnostic severity error', d.severity == vim.diagnostic.severity.ERROR, tostring(d.severity))
  check('diagnostic position', d.lnum == typo_line and d.col == typo_col and d.end_col == typo_col + 6,
    string.format('expected %d:%d-%d', typo_line, typo_col, typo_col + 6))

  local uri = vim.uri_from_bufnr(buf)
  local function request(method, params)
    local answers, err = vim.lsp.buf_request_sync(buf, method, params, 5000)
    local answer = answers and answers[client_id]
    if not answer then return nil, err or 'no answer' end
    return answer.result, answer.error or answer.err
  end

  -- 2. Hover on a step name.
  local hover, herr = request('textDocument/hover',
    { textDocument = { uri = uri }, position = { line = step_line, character = step_col } })
  local value = hover and hover.contents and (hover.contents.value or hover.contents) or ''
  if type(value) ~= 'string' then value = vim.inspect(value) end
  check('hover on step says "Performed by"', value:find('Performed by', 1, true) ~= nil,
    herr and vim.inspect(herr) or value:gsub('\n', '\\n'):sub(1, 120))

  -- 3. Definition of a role use.
  local def, derr = request('textDocument/definition',
    { textDocument = { uri = uri }, position = { line = use_line, character = use_col } })
  local loc = def and (def.uri and def or def[1]) or {}
  local range = loc.range or loc.targetSelectionRange
  check('definition goes to `role Supervisor`',
    range ~= nil and range.start.line == decl_line and (loc.uri or loc.targetUri) == uri,
    derr and vim.inspect(derr) or string.format('expected line %d, got %s', decl_line,
      range and tostring(range.start.line) or 'nil'))

  -- 4. Formatting: mess up one line through the editor (an incremental didChange), format, apply.
  local canonical = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local role_line = find('role Manager')
  vim.api.nvim_buf_set_lines(buf, role_line, role_line + 1, false, { 'role    Manager   ' })
  local edits, ferr = request('textDocument/formatting',
    { textDocument = { uri = uri }, options = { tabSize = 2, insertSpaces = true } })
  check('formatting answers edits', type(edits) == 'table' and #edits > 0,
    ferr and vim.inspect(ferr) or (edits and (#edits .. ' edits') or 'null'))
  if type(edits) == 'table' then
    vim.lsp.util.apply_text_edits(edits, buf, client.offset_encoding or 'utf-16')
  end
  check('formatted buffer is canonical',
    vim.deep_equal(vim.api.nvim_buf_get_lines(buf, 0, -1, false), canonical))

  -- 5. Fix the typo in the editor: the diagnostic must go away.
  vim.api.nvim_buf_set_text(buf, typo_line, typo_col, typo_line, typo_col + 6, { 'Agent' })
  local cleared = vim.wait(10000, function() return #vim.diagnostic.get(buf) == 0 end, 20)
  check('diagnostic cleared after editing `Agentt` to `Agent`', cleared, tostring(#vim.diagnostic.get(buf)))

  -- 6. Stop the client (shutdown + exit): the server process must end by itself, with code 0.
  if vim.fn.has('nvim-0.11') == 1 then client:stop() else client.stop() end
  local gone = vim.wait(5000, function() return exit_code ~= nil end, 20)
  check('server exited after shutdown/exit', gone,
    string.format('pid=%s code=%s signal=%s', tostring(pid), tostring(exit_code), tostring(exit_signal)))
  check('server exit code 0', exit_code == 0 and (exit_signal or 0) == 0)
  if pid then
    local alive = vim.loop.kill(pid, 0) == 0
    check('server process is gone', not alive, 'pid ' .. pid)
  end
end

local ok, err = pcall(main)
if not ok then check('script ran without error', false, tostring(err)) end
finish()
