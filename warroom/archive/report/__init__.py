"""`warroom report`: the seed's T+1h report as one self-contained HTML file, from the API's answers."""
