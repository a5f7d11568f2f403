// For a face that pipelines one client's writes (the WebSocket, src/server/stream/ws.ts): `queued`
// is called once a send or an ack waits in the store's commit queue, the point after which its
// place in the commit order is fixed (Store.appendMessage and Store.ack join the queue during the
// call). The face starts the client's next frame from there, so one client's sends share a
// commit with each other and still commit, and reach their recipients, in the order they came.
export interface CommitOrder {
  queued?: () => void;
}
