"""Two-player zero-sum games: the one-seat base class, tic-tac-toe, Kuhn poker and Leduc
Hold'em, their exact game trees (best response, NashConv) and OpenSpiel as the judge."""
