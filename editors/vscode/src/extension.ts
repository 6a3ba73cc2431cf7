// The Proc extension: starts the Proc language server (`procc lsp`) over stdio for `.proc` files.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

const DEFAULT_SERVER = 'procc';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

/** `~/bin/procc` to an absolute path. */
function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : file;
}

/** The executable to start: the `proc.server.path` setting, else `PROC_LSP_PATH`, else `procc` on PATH. */
function serverCommand(config: vscode.WorkspaceConfiguration): string {
  const configured = expandHome((config.get<string>('server.path') ?? '').trim());
  if (configured !== '' && configured !== DEFAULT_SERVER) {
    return configured;
  }
  const fromEnv = expandHome((process.env.PROC_LSP_PATH ?? '').trim());
  if (fromEnv !== '') {
    return fromEnv;
  }
  return configured || DEFAULT_SERVER;
}

function serverArgs(config: vscode.WorkspaceConfiguration): string[] {
  const extra = config.get<unknown>('server.extraArgs');
  const args = Array.isArray(extra) ? extra.filter((a): a is string => typeof a === 'string') : [];
  return ['lsp', ...args];
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Why `command` cannot be started, or undefined when it looks startable (a path that exists, or a name on PATH). */
function whyNotStartable(command: string): string | undefined {
  if (command.includes('/') || command.includes('\\')) {
    return isExecutable(command) ? undefined : `no executable file at ${command}`;
  }
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE').split(';') : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && exts.some((ext) => isExecutable(path.join(dir, command + ext)))) {
      return undefined;
    }
  }
  return `\`${command}\` was not found on PATH`;
}

async function reportStartFailure(shown: string, reason: string): Promise<void> {
  output?.appendLine(`Could not start the Proc language server (${shown}): ${reason}`);
  const choice = await vscode.window.showErrorMessage(
    `Proc: could not start the language server \`${shown}\`: ${reason}. ` +
      'Install procc or set "proc.server.path" to the procc executable, then run "Proc: Restart Language Server".',
    'Open Settings',
    'Show Log',
  );
  if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'proc.server');
  } else if (choice === 'Show Log') {
    output?.show(true);
  }
}

async function startClient(): Promise<void> {
  const config = vscode.workspace.getConfiguration('proc');
  const command = serverCommand(config);
  const args = serverArgs(config);
  const shown = [command, ...args].join(' ');

  const problem = whyNotStartable(command);
  if (problem !== undefined) {
    // Not awaited: the message stays up without blocking activation.
    void reportStartFailure(shown, problem);
    return;
  }

  const serverOptions: ServerOptions = {
    command,
    args,
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'proc' },
      { scheme: 'untitled', language: 'proc' },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.proc'),
    },
    outputChannel: output,
    traceOutputChannel: output,
  };

  const newClient = new LanguageClient('proc', 'Proc Language Server', serverOptions, clientOptions);
  client = newClient;
  try {
    await newClient.start();
  } catch (err) {
    client = undefined;
    // Stop the half-started client so it does not keep retrying in the background.
    await newClient.dispose().catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    void reportStartFailure(shown, reason);
  }
}

async function stopClient(): Promise<void> {
  const old = client;
  client = undefined;
  if (old) {
    try {
      await old.stop(5000);
    } catch {
      // The server may already be gone (crashed or never started); nothing to stop.
    }
  }
}

async function restartClient(): Promise<void> {
  await stopClient();
  await startClient();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Proc Language Server', { log: true });
  context.subscriptions.push(output);

  context.subscriptions.push(
    vscode.commands.registerCommand('proc.restartServer', async () => {
      await restartClient();
      if (client) {
        void vscode.window.setStatusBarMessage('Proc language server restarted', 3000);
      }
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('proc.server')) {
        await restartClient();
      }
    }),
  );

  await startClient();
}

export async function deactivate(): Promise<void> {
  await stopClient();
}
