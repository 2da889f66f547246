// The build flavour: `vscode` (the default) or `cursor`. The Cursor package builds these same
// sources with an esbuild define; unbundled code (the unit tests) sees the default.
declare const __CONCORD_FLAVOR__: string | undefined;

export type Flavor = 'vscode' | 'cursor';

export const FLAVOR: Flavor =
    typeof __CONCORD_FLAVOR__ !== 'undefined' && __CONCORD_FLAVOR__ === 'cursor' ? 'cursor' : 'vscode';

/** The agent preset used when the setting is absent (the manifests declare the same default). */
export function defaultAgentPreset(flavor: Flavor = FLAVOR): string {
    return flavor === 'cursor' ? 'cursor-agent' : '';
}
