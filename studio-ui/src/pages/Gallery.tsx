import { api, asList, type GalleryItem, type SavedTeam } from "../api";
import { useApi } from "../hooks";
import { href } from "../route";

function agentCount(spec: GalleryItem["spec"]): string {
  const n = spec?.agents ? Object.keys(spec.agents).length : undefined;
  return n === undefined ? "" : `${n} agent${n === 1 ? "" : "s"}`;
}

export function Gallery() {
  const gallery = useApi<unknown>("/api/gallery");
  const teams = useApi<unknown>("/api/teams");
  const items = asList<GalleryItem>(gallery.data, "gallery", "teams");
  const saved = asList<SavedTeam>(teams.data, "teams");

  async function remove(team: SavedTeam) {
    if (!window.confirm(`Delete the team “${team.name ?? team.id}”?`)) return;
    await api("DELETE", `/api/teams/${encodeURIComponent(team.id)}`);
    teams.reload();
  }

  return (
    <div className="page">
      <h1>Start from a team</h1>
      {gallery.error && <p role="alert" className="error">Gallery: {gallery.error}</p>}
      <ul className="cards" aria-label="Gallery">
        {items.map((item) => (
          <li key={item.name} className="card" data-testid={`gallery-${item.name}`}>
            <h2>{item.name}</h2>
            <p>{item.description ?? item.spec?.description ?? ""}</p>
            <p className="muted">{agentCount(item.spec)}</p>
            <div className="actions">
              <a className="button" href={href("builder", { gallery: item.name })}>Open in builder</a>
              <a className="button primary" href={href("play", { team: item.name })}>Run</a>
            </div>
          </li>
        ))}
        <li className="card">
          <h2>Blank team</h2>
          <p>Two agents and nothing else; add what you need.</p>
          <div className="actions">
            <a className="button" href={href("builder", { new: "1" })}>New team</a>
          </div>
        </li>
      </ul>

      <h1>Your teams</h1>
      {teams.error && <p role="alert" className="error">Teams: {teams.error}</p>}
      {saved.length === 0 ? (
        <p className="muted">No saved teams yet. Open one from the gallery and save it.</p>
      ) : (
        <ul className="cards" aria-label="Saved teams">
          {saved.map((team) => (
            <li key={team.id} className="card" data-testid={`team-${team.id}`}>
              <h2>{team.name ?? team.spec?.name ?? team.id}</h2>
              <p>{team.description ?? team.spec?.description ?? ""}</p>
              <p className="muted">{agentCount(team.spec)}</p>
              <div className="actions">
                <a className="button" href={href("builder", { team: team.id })}>Edit</a>
                <a className="button primary" href={href("play", { team: team.id })}>Run</a>
                <button type="button" className="danger" onClick={() => void remove(team)}>Delete</button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
