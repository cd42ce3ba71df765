import { Component, type ReactNode } from "react";

/** A page that fails to render says so (with a way back) instead of leaving a blank window. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: Error | null; key: string }> {
  state = { error: null as Error | null, key: this.props.resetKey };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  static getDerivedStateFromProps(props: { resetKey: string }, state: { error: Error | null; key: string }) {
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  render() {
    if (this.state.error)
      return (
        <div role="alert" className="page">
          <h1>This page failed</h1>
          <p className="error">{this.state.error.message}</p>
          <p><a href="#/">Back to the gallery</a></p>
        </div>
      );
    return this.props.children;
  }
}
