import { useCallback, useEffect } from "react";
import {
  ReactFlow, ReactFlowProvider, Background, Controls, MarkerType, useReactFlow, useNodesState, useEdgesState, applyEdgeChanges,
  type Connection, type Edge, type EdgeChange, type Node,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { agentColour } from "../colours";

// The group chat's speaker transitions as a graph: drag from an agent's lower handle to another
// agent's upper handle to add "may speak after"; select an arrow and press Delete to remove it.
// The transitions (in the spec) are the truth; nodes keep React Flow's own state (positions,
// measured sizes), edges are rebuilt from the transitions and keep only their selection.

export type Transitions = Record<string, string[]>;

function circle(names: string[]): Record<string, { x: number; y: number }> {
  const r = Math.max(110, names.length * 30);
  const out: Record<string, { x: number; y: number }> = {};
  names.forEach((name, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, names.length) - Math.PI / 2;
    out[name] = { x: r + r * Math.cos(a), y: r + r * Math.sin(a) };
  });
  return out;
}

function node(name: string, position: { x: number; y: number }): Node {
  return { id: name, data: { label: name }, position, style: { borderColor: agentColour(name), borderWidth: 2 }, ariaLabel: `agent ${name}` };
}

function edgesOf(transitions: Transitions | null, selected: Set<string>): Edge[] {
  const list: Edge[] = [];
  for (const [from, tos] of Object.entries(transitions ?? {}))
    for (const to of tos) {
      const id = `${from}->${to}`;
      list.push({ id, source: from, target: to, selected: selected.has(id), markerEnd: { type: MarkerType.ArrowClosed }, ariaLabel: `${from} to ${to}` });
    }
  return list;
}

interface Props { agents: string[]; transitions: Transitions | null; onChange: (t: Transitions) => void }

function Graph({ agents, transitions, onChange }: Props) {
  const [nodes, setNodes, onNodesChange] = useNodesState<Node>([]);
  const [edges, setEdges] = useEdgesState<Edge>([]);
  const flow = useReactFlow();

  // Agents added or removed: new ones placed on a circle, the others stay where they were dragged.
  const key = agents.join("\u0000");
  useEffect(() => {
    const places = circle(agents);
    setNodes((old) => agents.map((a) => old.find((n) => n.id === a) ?? node(a, places[a])));
    const t = setTimeout(() => void flow.fitView({ padding: 0.2 }), 50);
    return () => clearTimeout(t);
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    setEdges((old) => edgesOf(transitions, new Set(old.filter((e) => e.selected).map((e) => e.id))));
  }, [transitions, setEdges]);

  const onConnect = useCallback((c: Connection) => {
    if (!c.source || !c.target) return;
    const list = transitions?.[c.source] ?? [];
    if (!list.includes(c.target)) onChange({ ...(transitions ?? {}), [c.source]: [...list, c.target] });
  }, [transitions, onChange]);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    setEdges((old) => applyEdgeChanges(changes.filter((c) => c.type !== "remove"), old));
    const removed = new Set(changes.filter((c) => c.type === "remove").map((c) => c.id));
    if (removed.size === 0) return;
    const next: Transitions = {};
    for (const [from, tos] of Object.entries(transitions ?? {})) next[from] = tos.filter((to) => !removed.has(`${from}->${to}`));
    onChange(next);
  }, [transitions, onChange, setEdges]);

  return (
    <ReactFlow nodes={nodes} edges={edges} onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
      onConnect={onConnect} fitView deleteKeyCode={["Backspace", "Delete"]} proOptions={{ hideAttribution: true }}
      nodesConnectable elementsSelectable>
      <Background />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}

export function TransitionGraph(props: Props) {
  return (
    <div className="graph" data-testid="transition-graph">
      <ReactFlowProvider>
        <Graph {...props} />
      </ReactFlowProvider>
    </div>
  );
}
