// The console's code editor: CodeMirror 6 with its basic setup and JavaScript or Python highlighting.
// scripts/build-console bundles this file into ../editor.js, which the server embeds.
import { EditorView, basicSetup } from 'codemirror';
import { javascript } from '@codemirror/lang-javascript';
import { python } from '@codemirror/lang-python';

/** Mounts an editor in `parent` holding `doc`; returns {getValue, setValue}. `nonce` is the page's CSP
 *  style nonce, for the `<style>` element CodeMirror writes its theme into. */
export function createEditor(parent, doc, language, nonce) {
  const extensions = [basicSetup, EditorView.lineWrapping];
  if (nonce) extensions.push(EditorView.cspNonce.of(nonce));
  if (language === 'python') extensions.push(python());
  else if (language === 'javascript') extensions.push(javascript());
  const view = new EditorView({ doc, extensions, parent });
  return {
    getValue: () => view.state.doc.toString(),
    setValue: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    focus: () => view.focus(),
  };
}
